//! `--config portcullis.toml` (issue 11): a TOML file with a key for every
//! flag of `portcullis serve` (the flag's long name, with `_` or `-`), and
//! `log_level`. It sits beneath the environment and the command line: a
//! flag overrides its environment variable, which overrides the file, which
//! overrides the built-in default. An unknown key, or a table where a value
//! belongs, is refused with its line; nothing starts on a file with a typo.
//!
//! Read with `toml`, the toml-rs project's parser, whose span-keeping
//! tables give each key's line. The file's values become the command's
//! defaults, so clap applies the precedence and validates every value as it
//! does a flag's.

use crate::config::Cli;
use anyhow::{anyhow, bail, Context};
use clap::{Command, CommandFactory, FromArgMatches};
use std::ffi::OsString;
use std::path::Path;

/// Arguments a file cannot set: how the file itself is found.
const NOT_KEYS: [&str; 3] = ["config", "help", "version"];

/// The subcommands that take `--config`, as paths from the root.
const TAKES_CONFIG: [&[&str]; 2] = [&["serve"], &["config", "check"]];

/// Parses the command line `args`; when it names a config file (with
/// `--config` or `PORTCULLIS_CONFIG`), parses it again with the file's
/// values as the defaults. A usage error exits as clap does.
pub fn parse(args: Vec<OsString>) -> anyhow::Result<Cli> {
    let matches = Cli::command().try_get_matches_from(&args).unwrap_or_else(|e| e.exit());
    let Some((path, chain)) = TAKES_CONFIG.iter().find_map(|chain| {
        let mut at = &matches;
        for name in *chain {
            at = at.subcommand_matches(name)?;
        }
        Some((at.get_one::<std::path::PathBuf>("config")?.clone(), *chain))
    }) else {
        return Ok(Cli::from_arg_matches(&matches)?);
    };
    let values = read(&path)?;
    let command = with_defaults(Cli::command(), chain, &values);
    let matches = command.try_get_matches_from(&args).unwrap_or_else(|e| e.exit());
    Ok(Cli::from_arg_matches(&matches)?)
}

/// The keys a file may set: the ids of `serve`'s arguments, and the log level.
pub fn keys() -> Vec<String> {
    let command = Cli::command();
    let serve = command.find_subcommand("serve").expect("serve is a subcommand");
    let mut keys: Vec<String> = serve
        .get_arguments()
        .map(|arg| arg.get_id().as_str().to_owned())
        .filter(|id| !NOT_KEYS.contains(&id.as_str()))
        .chain(["log_level".to_owned()])
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// A value as the file gives it: one, or several for a repeatable flag.
#[derive(Debug, PartialEq)]
pub enum FileValue {
    /// One value.
    One(String),
    /// Several values.
    Many(Vec<String>),
}

/// The `(key, value)` pairs of the file at `path`, checked against [`keys`].
pub fn read(path: &Path) -> anyhow::Result<Vec<(String, FileValue)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    values(&text).with_context(|| format!("config file {}", path.display()))
}

/// The pairs of the TOML `text`, checked against [`keys`].
pub fn values(text: &str) -> anyhow::Result<Vec<(String, FileValue)>> {
    let spanned = toml::de::DeTable::parse(text).map_err(|e| anyhow!("{e}"))?;
    let known = keys();
    let line_of = |offset: usize| text[..offset].matches('\n').count() + 1;
    // In the file's order, so that the first mistake is the one reported.
    let mut entries: Vec<_> =
        spanned.get_ref().iter().map(|(key, value)| (line_of(key.span().start), key, value)).collect();
    entries.sort_by_key(|(line, _, _)| *line);
    let mut pairs = Vec::new();
    for (line, key, value) in entries {
        let id = key.get_ref().replace('-', "_");
        if !known.contains(&id) {
            bail!("line {line}: unknown key `{}`; the keys are {}", key.get_ref(), known.join(", "));
        }
        let value = match value.get_ref() {
            toml::de::DeValue::Array(items) => {
                let items =
                    items.iter().map(|item| scalar(item, text, line, &id)).collect::<Result<_, _>>()?;
                FileValue::Many(items)
            }
            _ => FileValue::One(scalar(value, text, line, &id)?),
        };
        pairs.push((id, value));
    }
    Ok(pairs)
}

/// A scalar TOML value of `text` as the flag's text.
fn scalar(
    value: &toml::Spanned<toml::de::DeValue<'_>>,
    text: &str,
    line: usize,
    key: &str,
) -> anyhow::Result<String> {
    use toml::de::DeValue;
    Ok(match value.get_ref() {
        DeValue::String(string) => string.to_string(),
        DeValue::Boolean(flag) => flag.to_string(),
        // Numbers as the file spells them; clap checks them as a flag's.
        DeValue::Integer(_) | DeValue::Float(_) | DeValue::Datetime(_) => {
            text[value.span()].trim().to_owned()
        }
        DeValue::Array(_) | DeValue::Table(_) => {
            bail!("line {line}: `{key}` takes a value or a list of values")
        }
    })
}

/// `command` with `values` as the defaults of the arguments of the
/// subcommand at `chain` (and the root's log level).
fn with_defaults(command: Command, chain: &[&str], values: &[(String, FileValue)]) -> Command {
    let mut command = command;
    for (key, value) in values {
        let set = |arg: clap::Arg| match value {
            FileValue::One(one) => arg.default_value(one.clone()),
            FileValue::Many(many) => arg.default_values(many.clone()),
        };
        if key == "log_level" {
            command = command.mut_arg(key, set);
            continue;
        }
        // The generic DATABASE_URL is environment too: it overrides the file.
        if key == "database_url" && std::env::var_os("DATABASE_URL").is_some() {
            continue;
        }
        command = mut_subcommand_at(command, chain, &|sub| sub.mut_arg(key, set));
    }
    command
}

fn mut_subcommand_at(command: Command, chain: &[&str], change: &dyn Fn(Command) -> Command) -> Command {
    match chain.split_first() {
        None => change(command),
        Some((name, rest)) => command.mut_subcommand(name, |sub| mut_subcommand_at(sub, rest, change)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_is_valid_and_names_every_key() {
        let example = include_str!("../../../examples/portcullis.toml");
        let set: Vec<String> = values(example).unwrap().into_iter().map(|(key, _)| key).collect();
        for key in keys() {
            // A key with no default is shown commented out.
            let commented = example.lines().any(|line| line.starts_with(&format!("# {key} = ")));
            assert!(set.contains(&key) ^ commented, "examples/portcullis.toml names `{key}` once");
        }
    }

    #[test]
    fn an_unknown_key_or_a_table_is_refused_with_its_line() {
        let error = values("listen = \"127.0.0.1:1\"\n\nlisten_adress = \"x\"\n").unwrap_err().to_string();
        assert!(error.starts_with("line 3: unknown key `listen_adress`"), "{error}");
        let error = values("scopes = [[\"a\"]]\n").unwrap_err().to_string();
        assert!(error.contains("line 1: `scopes` takes a value or a list of values"), "{error}");
        assert!(values("listen = \n").is_err(), "TOML syntax errors are refused too");
    }

    #[test]
    fn values_keep_the_flags_spelling_and_lists_stay_lists() {
        let pairs =
            values("workers = 4\nscopes = [\"read\", \"write\"]\nclient-lockout-policy = \"disable\"\n")
                .unwrap();
        assert_eq!(
            pairs,
            [
                ("workers".to_owned(), FileValue::One("4".to_owned())),
                ("scopes".to_owned(), FileValue::Many(vec!["read".to_owned(), "write".to_owned()])),
                ("client_lockout_policy".to_owned(), FileValue::One("disable".to_owned())),
            ]
        );
    }
}
