//! Reading provisioning files in Grafana's YAML format, with Grafana's environment variable
//! expansion applied to values (never to keys, never to dashboard JSON files).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A provisioning file that cannot be used; the message names the file.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct FileError {
    pub path: String,
    pub reason: String,
}

impl FileError {
    pub fn new(path: &Path, reason: impl Into<String>) -> FileError {
        FileError {
            path: path.display().to_string(),
            reason: reason.into(),
        }
    }
}

/// Expands `$NAME` and `${NAME}` from `lookup` (unset names become empty, as in Grafana); `$$` is
/// a literal `$`. A `$` followed by neither a name nor `{`, and an unclosed `${`, stay as written.
pub fn expand_env(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(inner) = after.strip_prefix('{') {
            match inner.find('}') {
                Some(end) => {
                    out.push_str(&lookup(&inner[..end]).unwrap_or_default());
                    rest = &inner[end + 1..];
                }
                None => {
                    out.push('$');
                    rest = after;
                }
            }
        } else {
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if len == 0 {
                out.push('$');
            } else {
                out.push_str(&lookup(&after[..len]).unwrap_or_default());
            }
            rest = &after[len..];
        }
    }
    out.push_str(rest);
    out
}

/// Expands every string value of `value` (object keys are left alone).
fn expand_values(value: &mut Value, lookup: &dyn Fn(&str) -> Option<String>) {
    match value {
        Value::String(s) => *s = expand_env(s, lookup),
        Value::Array(items) => items.iter_mut().for_each(|v| expand_values(v, lookup)),
        Value::Object(map) => map.values_mut().for_each(|v| expand_values(v, lookup)),
        _ => {}
    }
}

/// Parses one YAML file into `T`, expanding environment variables in its values first.
pub fn parse_yaml<T: DeserializeOwned>(
    path: &Path,
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<T, FileError> {
    let mut value: Value = serde_norway::from_str(text)
        .map_err(|e| FileError::new(path, format!("not valid YAML: {e}")))?;
    if value.is_null() {
        value = Value::Object(Default::default());
    }
    expand_values(&mut value, lookup);
    let parsed: T =
        serde_json::from_value(value).map_err(|e| FileError::new(path, e.to_string()))?;
    Ok(parsed)
}

/// The `*.yaml` and `*.yml` files of `dir`, sorted; an absent directory has none.
pub fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>, FileError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(FileError::new(dir, format!("cannot read: {e}"))),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| FileError::new(dir, format!("cannot read: {e}")))?;
        let path = entry.path();
        let yaml = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e == "yaml" || e == "yml");
        if yaml && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

// ------------------------------------------------------------------ lenient scalars

/// Values may be written as strings (`editable: "true"`, or `$VAR` expanded to `"5"`).
fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(false),
        Value::Bool(b) => Ok(b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Ok(true),
            "false" | "no" | "off" | "0" | "" => Ok(false),
            other => Err(D::Error::custom(format!("{other:?} is not a boolean"))),
        },
        other => Err(D::Error::custom(format!("{other} is not a boolean"))),
    }
}

fn lenient_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("{n} is not an integer"))),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| D::Error::custom(format!("{s:?} is not an integer"))),
        other => Err(D::Error::custom(format!("{other} is not an integer"))),
    }
}

fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(D::Error::custom(format!("{other} is not a string"))),
    }
}

fn lenient_secrets<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(BTreeMap::new()),
        Value::Object(map) => map
            .into_iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k, s)),
                Value::Number(n) => Ok((k, n.to_string())),
                Value::Bool(b) => Ok((k, b.to_string())),
                other => Err(D::Error::custom(format!(
                    "secureJsonData.{k}: {other} is not a string"
                ))),
            })
            .collect(),
        other => Err(D::Error::custom(format!(
            "secureJsonData: {other} is not a map"
        ))),
    }
}

/// Grafana's provisioning files are at `apiVersion` 0 or 1.
fn check_api_version(path: &Path, version: Option<i64>) -> Result<(), FileError> {
    match version {
        None | Some(0) | Some(1) => Ok(()),
        Some(v) => Err(FileError::new(
            path,
            format!("apiVersion {v} is not supported (use 1)"),
        )),
    }
}

// ------------------------------------------------------------------ datasources

/// `provisioning/datasources/*.yaml`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataSourcesFile {
    #[serde(default, deserialize_with = "lenient_int")]
    pub api_version: Option<i64>,
    #[serde(default)]
    pub datasources: Vec<DataSourceEntry>,
    #[serde(default)]
    pub delete_datasources: Vec<DeleteDataSource>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DataSourceEntry {
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: String,
    #[serde(rename = "type", default, deserialize_with = "lenient_string")]
    pub kind: String,
    #[serde(default, deserialize_with = "lenient_string")]
    pub uid: String,
    #[serde(default, deserialize_with = "lenient_string")]
    pub url: String,
    #[serde(default, deserialize_with = "lenient_string")]
    pub access: String,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_default: bool,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub basic_auth: bool,
    #[serde(default, deserialize_with = "lenient_string")]
    pub basic_auth_user: String,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub with_credentials: bool,
    #[serde(default, deserialize_with = "lenient_string")]
    pub user: String,
    #[serde(default, deserialize_with = "lenient_string")]
    pub database: String,
    #[serde(default)]
    pub json_data: Option<Value>,
    #[serde(default, deserialize_with = "lenient_secrets")]
    pub secure_json_data: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "lenient_int")]
    pub org_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient_int")]
    pub version: Option<i64>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub editable: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteDataSource {
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient_int")]
    pub org_id: Option<i64>,
}

/// Parses and checks a datasources file.
pub fn parse_datasources(
    path: &Path,
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<DataSourcesFile, FileError> {
    let file: DataSourcesFile = parse_yaml(path, text, lookup)?;
    check_api_version(path, file.api_version)?;
    for (i, ds) in file.datasources.iter().enumerate() {
        if ds.name.trim().is_empty() {
            return Err(FileError::new(
                path,
                format!("datasources[{i}]: name is required"),
            ));
        }
        if ds.kind.trim().is_empty() {
            return Err(FileError::new(
                path,
                format!("datasource {:?}: type is required", ds.name),
            ));
        }
        if !matches!(
            ds.json_data,
            None | Some(Value::Null) | Some(Value::Object(_))
        ) {
            return Err(FileError::new(
                path,
                format!("datasource {:?}: jsonData must be a map", ds.name),
            ));
        }
    }
    for (i, d) in file.delete_datasources.iter().enumerate() {
        if d.name.trim().is_empty() {
            return Err(FileError::new(
                path,
                format!("deleteDatasources[{i}]: name is required"),
            ));
        }
    }
    Ok(file)
}

// ------------------------------------------------------------------ dashboard providers

/// `provisioning/dashboards/*.yaml`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvidersFile {
    #[serde(default, deserialize_with = "lenient_int")]
    pub api_version: Option<i64>,
    #[serde(default)]
    pub providers: Vec<Provider>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Provider {
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient_int")]
    pub org_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub folder: String,
    #[serde(default, deserialize_with = "lenient_string")]
    pub folder_uid: String,
    #[serde(rename = "type", default, deserialize_with = "lenient_string")]
    pub kind: String,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub disable_deletion: bool,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub allow_ui_updates: bool,
    #[serde(default, deserialize_with = "lenient_int")]
    pub update_interval_seconds: Option<i64>,
    #[serde(default)]
    pub options: ProviderOptions,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ProviderOptions {
    #[serde(default, deserialize_with = "lenient_string")]
    pub path: String,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub folders_from_files_structure: bool,
}

/// Grafana's default re-scan interval.
pub const DEFAULT_UPDATE_INTERVAL_SECONDS: i64 = 10;

impl Provider {
    pub fn org(&self) -> i64 {
        self.org_id.filter(|o| *o > 0).unwrap_or(1)
    }

    pub fn interval(&self) -> std::time::Duration {
        let secs = self
            .update_interval_seconds
            .filter(|s| *s > 0)
            .unwrap_or(DEFAULT_UPDATE_INTERVAL_SECONDS);
        std::time::Duration::from_secs(secs as u64)
    }
}

/// Parses and checks a dashboard providers file.
pub fn parse_providers(
    path: &Path,
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<ProvidersFile, FileError> {
    let file: ProvidersFile = parse_yaml(path, text, lookup)?;
    check_api_version(path, file.api_version)?;
    for (i, p) in file.providers.iter().enumerate() {
        if p.name.trim().is_empty() {
            return Err(FileError::new(
                path,
                format!("providers[{i}]: name is required"),
            ));
        }
        if !matches!(p.kind.as_str(), "" | "file") {
            return Err(FileError::new(
                path,
                format!(
                    "provider {:?}: type {:?} is not supported (only file)",
                    p.name, p.kind
                ),
            ));
        }
        if p.options.path.trim().is_empty() {
            return Err(FileError::new(
                path,
                format!("provider {:?}: options.path is required", p.name),
            ));
        }
        if p.folders_from_files_structure_conflicts() {
            return Err(FileError::new(
                path,
                format!(
                    "provider {:?}: foldersFromFilesStructure cannot be combined with folder or folderUid",
                    p.name
                ),
            ));
        }
    }
    Ok(file)
}

impl Provider {
    /// Grafana refuses a provider that both names a folder and takes folders from directories.
    fn folders_from_files_structure_conflicts(&self) -> bool {
        self.options.folders_from_files_structure
            && (!self.folder.is_empty() || !self.folder_uid.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "PORT" => Some("9090".into()),
            "USER_1" => Some("bob".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expansion_follows_grafanas_rules() {
        let x = |s: &str| expand_env(s, &env);
        assert_eq!(x("http://localhost:$PORT"), "http://localhost:9090");
        assert_eq!(x("http://localhost:${PORT}/x"), "http://localhost:9090/x");
        assert_eq!(x("$USER_1-$PORT"), "bob-9090");
        assert_eq!(x("${USER_1}x"), "bobx");
        assert_eq!(x("pa$$word"), "pa$word");
        assert_eq!(x("$$PORT"), "$PORT");
        assert_eq!(x("$$$PORT"), "$9090");
        assert_eq!(x("$UNSET|${UNSET}|$EMPTY"), "||");
        assert_eq!(x("cost: 5 $"), "cost: 5 $");
        assert_eq!(x("a $ b"), "a $ b");
        assert_eq!(x("${PORT"), "${PORT");
        assert_eq!(x("no dollars"), "no dollars");
        assert_eq!(x(""), "");
    }

    #[test]
    fn datasources_files_parse_with_values_expanded_and_keys_kept() {
        let text = r#"
apiVersion: 1
deleteDatasources:
  - name: Old
    orgId: 1
datasources:
  - name: Prom
    type: prometheus
    uid: prom-1
    url: http://localhost:$PORT
    access: proxy
    isDefault: true
    basicAuth: "true"
    basicAuthUser: ${USER_1}
    jsonData:
      $PORT: kept
      httpMethod: POST
    secureJsonData:
      basicAuthPassword: pa$$word
    version: "3"
    editable: false
"#;
        let f = parse_datasources(Path::new("ds.yaml"), text, &env).unwrap();
        assert_eq!(f.api_version, Some(1));
        assert_eq!(f.delete_datasources[0].name, "Old");
        let ds = &f.datasources[0];
        assert_eq!(ds.url, "http://localhost:9090");
        assert!(ds.is_default && ds.basic_auth && !ds.editable);
        assert_eq!(ds.basic_auth_user, "bob");
        assert_eq!(ds.version, Some(3));
        assert_eq!(ds.org_id, None);
        assert_eq!(
            ds.json_data,
            Some(serde_json::json!({"$PORT": "kept", "httpMethod": "POST"}))
        );
        assert_eq!(ds.secure_json_data["basicAuthPassword"], "pa$word");
    }

    #[test]
    fn bad_files_are_refused_with_their_name() {
        let bad = [
            ("datasources: [name: x", "not valid YAML"),
            ("apiVersion: 2\ndatasources: []", "apiVersion 2"),
            ("datasources:\n  - type: prometheus", "name is required"),
            ("datasources:\n  - name: A", "type is required"),
            (
                "datasources:\n  - name: A\n    type: t\n    jsonData: [1]",
                "jsonData",
            ),
            (
                "datasources:\n  - name: A\n    type: t\n    isDefault: maybe",
                "not a boolean",
            ),
            ("datasources: 5", "invalid type"),
        ];
        for (text, expected) in bad {
            let err = parse_datasources(Path::new("/p/datasources/bad.yaml"), text, &env)
                .expect_err(text)
                .to_string();
            assert!(err.starts_with("/p/datasources/bad.yaml: "), "{err}");
            assert!(err.contains(expected), "{text:?}: {err}");
        }
        // An empty file declares nothing.
        let empty = parse_datasources(Path::new("e.yaml"), "", &env).unwrap();
        assert!(empty.datasources.is_empty());
    }

    #[test]
    fn providers_parse_with_defaults() {
        let text = r#"
apiVersion: 1
providers:
  - name: main
    folder: Ops
    type: file
    disableDeletion: true
    updateIntervalSeconds: 3
    allowUiUpdates: true
    options:
      path: /dash/$USER_1
  - name: nested
    options:
      path: /other
      foldersFromFilesStructure: true
"#;
        let f = parse_providers(Path::new("d.yaml"), text, &env).unwrap();
        let (a, b) = (&f.providers[0], &f.providers[1]);
        assert_eq!(a.options.path, "/dash/bob");
        assert!(a.disable_deletion && a.allow_ui_updates);
        assert_eq!(a.interval(), std::time::Duration::from_secs(3));
        assert_eq!((a.org(), b.org()), (1, 1));
        assert_eq!(b.interval(), std::time::Duration::from_secs(10));
        assert!(b.options.folders_from_files_structure);

        for (text, expected) in [
            ("providers:\n  - options: {path: /x}", "name is required"),
            ("providers:\n  - name: a", "options.path is required"),
            ("providers:\n  - name: a\n    type: git\n    options: {path: /x}", "type \"git\""),
            (
                "providers:\n  - name: a\n    folder: F\n    options: {path: /x, foldersFromFilesStructure: true}",
                "foldersFromFilesStructure",
            ),
        ] {
            let err = parse_providers(Path::new("d.yaml"), text, &env)
                .expect_err(text)
                .to_string();
            assert!(err.starts_with("d.yaml: ") && err.contains(expected), "{err}");
        }
    }
}
