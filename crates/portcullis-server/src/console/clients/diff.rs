//! Two client configurations side by side: member by member, in the
//! form's order, each with whether it differs. The review before saving
//! shows the changed members; comparing versions shows them all.

use super::form::{fields, label, plain, Words};
use serde_json::{Map, Value};

/// One member of both configurations.
pub struct Row {
    /// What the form calls it.
    pub label: String,
    /// Its value on the left (older), as text; empty when absent.
    pub left: String,
    /// Its value on the right (newer).
    pub right: String,
    /// Whether the two differ.
    pub changed: bool,
}

/// A member's value as text: lists a line an item, documents as JSON.
fn text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::Array(items)) if items.iter().all(|i| !i.is_object()) => {
            items.iter().map(plain).collect::<Vec<_>>().join("\n")
        }
        Some(value @ Value::Object(_)) | Some(value @ Value::Array(_)) => {
            serde_json::to_string_pretty(value).unwrap_or_default()
        }
        Some(value) => plain(value),
    }
}

/// The members of `left` and `right`, the form's first, then the others by
/// name, labelled in `words`; only the changed ones when `changed_only`.
pub fn rows(
    left: &Map<String, Value>,
    right: &Map<String, Value>,
    changed_only: bool,
    words: Words,
) -> Vec<Row> {
    let mut names: Vec<&str> = fields().map(|f| f.name).collect();
    let mut others: Vec<&str> =
        left.keys().chain(right.keys()).map(String::as_str).filter(|n| !names.contains(n)).collect();
    others.sort_unstable();
    others.dedup();
    names.extend(others);
    names
        .into_iter()
        .map(|name| {
            let changed = left.get(name) != right.get(name);
            Row {
                label: label(name, words).to_owned(),
                left: text(left.get(name)),
                right: text(right.get(name)),
                changed,
            }
        })
        .filter(|row| {
            let shown = !row.left.is_empty() || !row.right.is_empty();
            row.changed || (!changed_only && shown)
        })
        .collect()
}

/// The changes `draft` makes to `base`, applied to `current` (a version
/// saved since `base`), and the labels (in `words`) of the members
/// `current` changed too, differently: there the draft wins, and the
/// editor is told.
pub fn rebase(
    [base, draft, current]: [&Map<String, Value>; 3],
    words: Words,
) -> (Map<String, Value>, Vec<String>) {
    let mut rebased = current.clone();
    let mut overlaps = Vec::new();
    let mut names: Vec<&String> = base.keys().chain(draft.keys()).collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        let (was, wanted, now) = (base.get(name), draft.get(name), current.get(name));
        if wanted == was {
            continue;
        }
        if now != was && now != wanted {
            overlaps.push(label(name, words).to_owned());
        }
        match wanted {
            Some(value) => rebased.insert(name.clone(), value.clone()),
            None => rebased.remove(name),
        };
    }
    (rebased, overlaps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_draft_rebased_keeps_the_others_changes_and_names_the_overlaps() {
        let base = json!({"client_name": "A", "scope": "read", "access_token_lifetime": 300});
        let draft = json!({"client_name": "B", "scope": "read", "access_token_lifetime": 600});
        let current = json!({"client_name": "A", "scope": "read write", "access_token_lifetime": 900});
        let object = |v: &serde_json::Value| v.as_object().unwrap().clone();
        let (rebased, overlaps) =
            rebase([&object(&base), &object(&draft), &object(&current)], Words::English);
        assert_eq!(rebased["client_name"], "B", "the draft's change");
        assert_eq!(rebased["scope"], "read write", "the other's change, kept");
        assert_eq!(rebased["access_token_lifetime"], 600, "both changed: the draft wins");
        assert_eq!(overlaps, ["Access-token lifetime (s)"]);
    }

    #[test]
    fn rows_follow_the_form_and_mark_what_changed() {
        let left = json!({"client_name": "A", "scope": "read", "software_id": "s"});
        let right =
            json!({"client_name": "B", "scope": "read", "redirect_uris": ["https://a/cb", "https://b/cb"]});
        let (left, right) = (left.as_object().unwrap(), right.as_object().unwrap());
        let changed = rows(left, right, true, Words::English);
        let labels: Vec<&str> = changed.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["Name", "Redirect URIs", "software_id"]);
        assert_eq!((changed[1].left.as_str(), changed[1].right.as_str()), ("", "https://a/cb\nhttps://b/cb"));
        let all = rows(left, right, false, Words::English);
        assert!(all.iter().any(|r| r.label == "Scopes" && !r.changed), "unchanged members are shown too");
        assert!(all.iter().all(|r| r.label != "Contacts"), "members absent from both are not");
    }
}
