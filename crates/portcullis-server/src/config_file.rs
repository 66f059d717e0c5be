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

/// Parses the command line `args`; when it names a config file (`serve` and
/// `config check` with `--config` or `PORTCULLIS_CONFIG`; every other
/// command that opens the database with `PORTCULLIS_CONFIG`), parses it
/// again with the file's values as the defaults of the options the command
/// has. A usage error exits as clap does.
pub fn parse(args: Vec<OsString>) -> anyhow::Result<Cli> {
    let matches = Cli::command().try_get_matches_from(&args).unwrap_or_else(|e| e.exit());
    let mut chain = Vec::new();
    let mut at = &matches;
    while let Some((name, sub)) = at.subcommand() {
        chain.push(name.to_owned());
        at = sub;
    }
    let named = at.try_get_one::<std::path::PathBuf>("config").ok().flatten().cloned();
    let from_env = || std::env::var_os("PORTCULLIS_CONFIG").filter(|v| !v.is_empty()).map(Into::into);
    let opens_database = at.try_get_raw("database_url").is_ok();
    let Some(path) = named.or_else(|| if opens_database { from_env() } else { None }) else {
        return Ok(Cli::from_arg_matches(&matches)?);
    };
    let values = read(&path)?;
    let chain: Vec<&str> = chain.iter().map(String::as_str).collect();
    let command = with_defaults(Cli::command(), &chain, &values);
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
    let line_of = |offset: usize| text[..offset].matches('\n').count() + 1;
    // The parser's own message quotes the line, which may hold a password: only its place is named.
    let spanned = toml::de::DeTable::parse(text).map_err(|e| match e.span() {
        Some(span) => anyhow!("line {}: {}", line_of(span.start), e.message()),
        None => anyhow!("{}", e.message()),
    })?;
    let known = keys();
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

/// `command` with `values` as the defaults of those arguments of the
/// subcommand at `chain` that it has (and of the root's log level).
fn with_defaults(command: Command, chain: &[&str], values: &[(String, FileValue)]) -> Command {
    let mut command = command;
    let leaf = chain.iter().try_fold(&command, |at, name| at.find_subcommand(name)).expect("a parsed chain");
    let has: Vec<String> = leaf.get_arguments().map(|arg| arg.get_id().as_str().to_owned()).collect();
    for (key, value) in values {
        let set = |arg: clap::Arg| match value {
            FileValue::One(one) => arg.default_value(one.clone()),
            FileValue::Many(many) => arg.default_values(many.clone()),
        };
        if key == "log_level" {
            command = command.mut_arg(key, set);
            continue;
        }
        if !has.contains(key) || overridden_by_environment(key) {
            continue;
        }
        command = mut_subcommand_at(command, chain, &|sub| sub.mut_arg(key, set));
    }
    command
}

/// Whether an environment variable other than the key's own overrides `key`:
/// the generic `DATABASE_URL`, and `PORTCULLIS_KEK` (which `kek_file` would
/// contradict).
fn overridden_by_environment(key: &str) -> bool {
    let set = |var: &str| std::env::var_os(var).is_some_and(|value| !value.is_empty());
    match key {
        "database_url" => set("DATABASE_URL"),
        "kek_file" => set("PORTCULLIS_KEK"),
        _ => false,
    }
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
