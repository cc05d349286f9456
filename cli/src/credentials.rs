//! Where the command's Twilio credentials come from: the library's environment variables, or a
//! profile of twilio-cli (Twilio's own command line), read from its config file as twilio-cli
//! reads it; and whether requests go through the environment's proxy.
//!
//! **twilio-cli's profile store.** twilio-cli 3.0 and later keep every profile in
//! `config.json` of its config directory: `$TWILIO_CONFIG_DIR`, else `.twilio-cli` in the home
//! directory (`$HOME`, else `%USERPROFILE%`). Its shape:
//!
//! ```json
//! {
//!   "profiles": {
//!     "prod": {"accountSid": "AC...", "apiKey": "SK...", "apiSecret": "...", "region": "au1", "edge": "sydney"}
//!   },
//!   "activeProject": "prod",
//!   "edge": "sydney",
//!   "requireProfileInput": false,
//!   "projects": [{"id": "old", "accountSid": "AC...", "region": null}]
//! }
//! ```
//!
//! `projects` are the profiles of twilio-cli before 3.0, whose API key and secret are in the
//! operating system's keychain: this command cannot read them, and says so.
//!
//! **Which credentials are used** (twilio-cli's rule, and ours):
//! 1. `-p/--profile NAME`: that profile; the credential variables of the environment are not
//!    used (a note on stderr says so when they are set).
//! 2. Else, when any of `TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN`, `TWILIO_API_KEY`,
//!    `TWILIO_API_SECRET` is set: the environment, as the library reads it.
//! 3. Else `TWILIO_PROFILE=NAME`: that profile (ours; twilio-cli has no such variable).
//! 4. Else the config file's active profile (`activeProject`, set by `twilio profiles:use`),
//!    unless twilio-cli is configured to require `-p` (`requireProfileInput`).
//!
//! With a profile, the account SID and the API key and secret are the profile's (an `apiKey`
//! equal to the account SID makes `apiSecret` the auth token), the region is the profile's, and
//! the edge is `TWILIO_EDGE`, else the profile's, else the config file's; `TWILIO_BASE_URL` (ours)
//! still applies. The secret is never printed: not in errors, `Debug` output nor traces.
//!
//! **Proxies.** Requests to Twilio go through the proxy named by `HTTPS_PROXY` / `HTTP_PROXY` /
//! `ALL_PROXY` (and not to the hosts of `NO_PROXY`), as twilio-cli's do, unless `--no-env-proxy`
//! or `TRUSTHUB_NO_ENV_PROXY=1`; never for an emulator (`--emulator`, or a `TWILIO_BASE_URL` on a
//! loopback host).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;
use trusthub::api::runtime::text::printable;
use trusthub::sid::{AccountSid, ApiKeySid};
use trusthub::{Client, ClientBuilder};

use crate::context::CliError;

/// Names a twilio-cli profile when `-p` is not given (below the credential variables).
pub const PROFILE_VAR: &str = "TWILIO_PROFILE";
/// twilio-cli's config directory (default: `.twilio-cli` in the home directory).
pub const CONFIG_DIR_VAR: &str = "TWILIO_CONFIG_DIR";
/// `1`, `true`, `yes` or `on`: no proxy from the environment (as `--no-env-proxy`).
pub const NO_ENV_PROXY_VAR: &str = "TRUSTHUB_NO_ENV_PROXY";

const ACCOUNT_SID: &str = trusthub::client::env::ACCOUNT_SID;
const AUTH_TOKEN: &str = trusthub::client::env::AUTH_TOKEN;
const API_KEY: &str = trusthub::client::env::API_KEY;
const API_SECRET: &str = trusthub::client::env::API_SECRET;
const EDGE: &str = trusthub::client::env::EDGE;
const BASE_URL: &str = trusthub::client::env::BASE_URL;

/// The variables whose presence means "credentials from the environment".
const CREDENTIAL_VARS: [&str; 4] = [ACCOUNT_SID, AUTH_TOKEN, API_KEY, API_SECRET];

/// An environment: a variable's value, `None` when unset or blank.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, blank values as unset.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// A secret read from the config file: shown as `[redacted]`.
#[derive(Clone)]
struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// One profile of the config file (`profiles.NAME`).
#[derive(Debug, Clone, Default)]
struct StoredProfile {
    account_sid: Option<String>,
    api_key: Option<String>,
    api_secret: Option<Secret>,
    region: Option<String>,
    edge: Option<String>,
}

/// twilio-cli's config file, read.
#[derive(Debug)]
pub struct TwilioConfig {
    path: PathBuf,
    profiles: BTreeMap<String, StoredProfile>,
    /// The ids of twilio-cli's profiles from before 3.0 (`projects`): their key and secret are in
    /// the OS keychain.
    keychain: Vec<String>,
    active: Option<String>,
    edge: Option<String>,
    require_profile_input: bool,
}

/// Where twilio-cli's config file is: `$TWILIO_CONFIG_DIR/config.json`, else
/// `$HOME/.twilio-cli/config.json` (`%USERPROFILE%` when `HOME` is unset), as twilio-cli does.
pub fn config_path(lookup: Lookup<'_>) -> Option<PathBuf> {
    let dir = match lookup(CONFIG_DIR_VAR) {
        Some(dir) => PathBuf::from(dir),
        None => {
            PathBuf::from(lookup("HOME").or_else(|| lookup("USERPROFILE"))?).join(".twilio-cli")
        }
    };
    Some(dir.join("config.json"))
}

/// A JSON value's kind, for errors that must not quote it.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A name from the file, fit to print.
fn shown(name: &str) -> String {
    format!("\"{}\"", printable(name))
}

impl TwilioConfig {
    /// Reads the file at `path`; `Ok(None)` when there is none.
    pub fn load(path: &Path) -> Result<Option<TwilioConfig>, CliError> {
        match std::fs::read(path) {
            Ok(bytes) => TwilioConfig::parse(path, &bytes).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(CliError::usage(format!(
                "cannot read twilio-cli's config file {}: {e}",
                path.display()
            ))),
        }
    }

    /// Parses the file's bytes. Errors name the file and the key, never a value.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<TwilioConfig, CliError> {
        let file = path.display();
        let root: Value = serde_json::from_slice(bytes).map_err(|e| {
            // serde_json's syntax errors quote nothing; the category and place suffice.
            let what = match e.classify() {
                serde_json::error::Category::Eof => "it ends too early",
                _ => "a syntax error",
            };
            CliError::usage(format!(
                "twilio-cli's config file {file} is not valid JSON ({what} at line {}, column {}); \
                 fix it, or create the profile again with `twilio profiles:create`",
                e.line(),
                e.column()
            ))
        })?;
        let invalid = |key: String, expected: &str, found: &Value| {
            CliError::usage(format!(
                "twilio-cli's config file {file}: {key}: expected {expected}; found {}",
                kind(found)
            ))
        };
        let Value::Object(root) = root else {
            return Err(invalid("the top level".into(), "an object", &root));
        };
        let string = |key: String, value: Option<&Value>| -> Result<Option<String>, CliError> {
            match value {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
                Some(other) => Err(invalid(key, "a string", other)),
            }
        };
        let mut profiles = BTreeMap::new();
        match root.get("profiles") {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                for (name, profile) in map {
                    let key = |field: &str| format!("profiles.{}.{field}", shown(name));
                    let Value::Object(fields) = profile else {
                        return Err(invalid(
                            format!("profiles.{}", shown(name)),
                            "an object",
                            profile,
                        ));
                    };
                    let field = |f: &str| string(key(f), fields.get(f));
                    profiles.insert(
                        name.trim().to_owned(),
                        StoredProfile {
                            account_sid: field("accountSid")?,
                            api_key: field("apiKey")?,
                            api_secret: field("apiSecret")?.map(Secret),
                            region: field("region")?,
                            edge: field("edge")?,
                        },
                    );
                }
            }
            Some(other) => return Err(invalid("profiles".into(), "an object", other)),
        }
        let mut keychain = Vec::new();
        match root.get("projects") {
            None | Some(Value::Null) => {}
            Some(Value::Array(projects)) => {
                for (i, project) in projects.iter().enumerate() {
                    let id = match project {
                        Value::Object(fields) => {
                            string(format!("projects[{i}].id"), fields.get("id"))?
                        }
                        other => return Err(invalid(format!("projects[{i}]"), "an object", other)),
                    };
                    keychain.extend(id);
                }
            }
            Some(other) => return Err(invalid("projects".into(), "an array", other)),
        }
        let require_profile_input = match root.get("requireProfileInput") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(invalid(
                    "requireProfileInput".into(),
                    "true or false",
                    other,
                ))
            }
        };
        Ok(TwilioConfig {
            path: path.to_path_buf(),
            profiles,
            keychain,
            active: string("activeProject".into(), root.get("activeProject"))?,
            edge: string("edge".into(), root.get("edge"))?,
            require_profile_input,
        })
    }

    /// The profiles' names, for messages: those of the file, then the keychain ones.
    fn names(&self) -> String {
        let mut names: Vec<String> = self.profiles.keys().map(|n| shown(n)).collect();
        names.extend(
            self.keychain
                .iter()
                .filter(|n| !self.profiles.contains_key(*n))
                .map(|n| format!("{} (OS keychain)", shown(n))),
        );
        if names.is_empty() {
            "no profile".to_owned()
        } else {
            names.join(", ")
        }
    }

    /// The active profile, as twilio-cli picks it: `activeProject` when it names a profile, else
    /// the first profile from before 3.0.
    fn active(&self) -> Option<&str> {
        let named = self.active.as_deref().filter(|name| {
            self.profiles.contains_key(*name) || self.keychain.iter().any(|k| k == name)
        });
        named.or(self.keychain.first().map(String::as_str))
    }
}

/// How the profile was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chosen {
    /// `-p/--profile`.
    Flag,
    /// `TWILIO_PROFILE`.
    Variable,
    /// The config file's active profile.
    Active,
}

/// Where the credentials come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The library's environment variables.
    Environment,
    /// A twilio-cli profile.
    Profile {
        /// Its name.
        name: String,
        /// The config file.
        path: PathBuf,
        /// How it was chosen.
        chosen: Chosen,
    },
}

/// The client's builder from the chosen credentials, where they come from, and notes for stderr.
pub struct Resolved {
    /// The builder (credentials, edge, region, base URL), without the proxy setting.
    pub builder: ClientBuilder,
    /// Where the credentials come from.
    pub source: Source,
    /// What the user should know (printed on stderr as `note: ...`).
    pub notes: Vec<String>,
}

impl fmt::Debug for Resolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The builder's Debug redacts its secret too.
        f.debug_struct("Resolved")
            .field("builder", &self.builder)
            .field("source", &self.source)
            .field("notes", &self.notes)
            .finish()
    }
}

/// Chooses the credentials (see the module's docs) from `flag` (`-p`) and `lookup` (the
/// environment).
pub fn resolve(flag: Option<&str>, lookup: Lookup<'_>) -> Result<Resolved, CliError> {
    let env_set: Vec<&str> = CREDENTIAL_VARS
        .into_iter()
        .filter(|name| lookup(name).is_some())
        .collect();
    let mut notes = Vec::new();
    if let Some(name) = flag.map(str::trim) {
        if name.is_empty() {
            return Err(CliError::usage(
                "-p/--profile: expected the name of a twilio-cli profile; found an empty name",
            ));
        }
        if !env_set.is_empty() {
            notes.push(format!(
                "-p {}: the credentials of this twilio-cli profile are used; those of {} in the \
                 environment are not",
                shown(name),
                env_set.join(", ")
            ));
        }
        return from_profile(name, Chosen::Flag, lookup, notes);
    }
    let variable = lookup(PROFILE_VAR);
    if !env_set.is_empty() {
        if let Some(name) = &variable {
            notes.push(format!(
                "{PROFILE_VAR}={} is not used: {} in the environment take precedence (pass -p {} \
                 to use the profile)",
                shown(name.trim()),
                env_set.join(", "),
                shown(name.trim())
            ));
        }
        let builder = ClientBuilder::from_lookup(|name| lookup(name)).map_err(|e| {
            CliError::usage(format!(
                "{e} (or pass --emulator to run against an embedded emulator)"
            ))
        })?;
        return Ok(Resolved {
            builder,
            source: Source::Environment,
            notes,
        });
    }
    if let Some(name) = variable {
        return from_profile(name.trim(), Chosen::Variable, lookup, notes);
    }
    let no_credentials = format!(
        "{ACCOUNT_SID} is not set: export your Account SID (AC followed by 32 hex digits, from the \
         Twilio Console) with {AUTH_TOKEN} (or {API_KEY} and {API_SECRET}), name a twilio-cli \
         profile with -p NAME or {PROFILE_VAR}, or pass --emulator to run against an embedded \
         emulator"
    );
    let Some(path) = config_path(lookup) else {
        return Err(CliError::usage(no_credentials));
    };
    let Some(config) = TwilioConfig::load(&path)? else {
        return Err(CliError::usage(no_credentials));
    };
    match config.active().map(str::to_owned) {
        Some(active) if config.require_profile_input => Err(CliError::usage(format!(
            "{no_credentials} (twilio-cli's config {} requires a profile to be named: its active \
             profile {} is used only with -p)",
            path.display(),
            shown(&active)
        ))),
        Some(active) => {
            notes.push(format!(
                "using twilio-cli's active profile {} ({}); -p NAME picks another",
                shown(&active),
                path.display()
            ));
            profile_builder(&config, &active, Chosen::Active, lookup, notes)
        }
        None if !config.profiles.is_empty() => Err(CliError::usage(format!(
            "{no_credentials} ({} has profiles {} but none is active)",
            path.display(),
            config.names()
        ))),
        None => Err(CliError::usage(no_credentials)),
    }
}

/// The builder of profile `name`, from the config file.
fn from_profile(
    name: &str,
    chosen: Chosen,
    lookup: Lookup<'_>,
    notes: Vec<String>,
) -> Result<Resolved, CliError> {
    let how = match chosen {
        Chosen::Flag => "-p",
        _ => PROFILE_VAR,
    };
    let path = config_path(lookup).ok_or_else(|| {
        CliError::usage(format!(
            "{how} {}: cannot find twilio-cli's config file: neither {CONFIG_DIR_VAR} nor HOME \
             (USERPROFILE) is set",
            shown(name)
        ))
    })?;
    let config = TwilioConfig::load(&path)?.ok_or_else(|| {
        CliError::usage(format!(
            "{how} {}: there is no twilio-cli config file at {} (create the profile with \
             `twilio profiles:create {}`, twilio-cli 3.0 or later, or set {CONFIG_DIR_VAR} to \
             the directory holding config.json)",
            shown(name),
            path.display(),
            printable(name)
        ))
    })?;
    profile_builder(&config, name, chosen, lookup, notes)
}

/// The builder of profile `name` of `config`.
fn profile_builder(
    config: &TwilioConfig,
    name: &str,
    chosen: Chosen,
    lookup: Lookup<'_>,
    notes: Vec<String>,
) -> Result<Resolved, CliError> {
    let file = config.path.display();
    let Some(profile) = config.profiles.get(name) else {
        if config.keychain.iter().any(|k| k == name) {
            return Err(CliError::usage(format!(
                "twilio-cli profile {} ({file}) keeps its API key and secret in the operating \
                 system's keychain (twilio-cli before 3.0), which this command does not read: \
                 run `twilio profiles:create {}` with twilio-cli 3.0 or later to store it in the \
                 config file, or set {ACCOUNT_SID} with {API_KEY} and {API_SECRET} (or \
                 {AUTH_TOKEN}) instead",
                shown(name),
                printable(name)
            )));
        }
        return Err(CliError::usage(format!(
            "no twilio-cli profile {} in {file} (it has {}); create it with `twilio \
             profiles:create {}`",
            shown(name),
            config.names(),
            printable(name)
        )));
    };
    let field_error = |field: &str, problem: String| {
        CliError::usage(format!(
            "twilio-cli profile {} ({file}): {field}: {problem}",
            shown(name)
        ))
    };
    let account_sid: AccountSid = profile
        .account_sid
        .as_deref()
        .ok_or_else(|| {
            field_error(
                "accountSid",
                "missing (expected AC followed by 32 hex digits)".into(),
            )
        })?
        .parse()
        .map_err(|e| field_error("accountSid", format!("{e}")))?;
    let (Some(key), Some(secret)) = (profile.api_key.as_deref(), profile.api_secret.as_ref())
    else {
        return Err(field_error(
            "apiKey/apiSecret",
            format!(
                "missing: the profile holds no API key and secret (run `twilio profiles:create \
                 {}` again)",
                printable(name)
            ),
        ));
    };
    let mut builder = Client::builder().account_sid(account_sid);
    // twilio-cli authenticates with (apiKey, apiSecret); an apiKey equal to the account SID
    // makes the secret the account's auth token.
    if key == account_sid.as_str() {
        builder = builder.auth_token(secret.0.clone());
    } else {
        let key: ApiKeySid = key
            .parse()
            .map_err(|e| field_error("apiKey", format!("{e} (or the account SID)")))?;
        builder = builder.api_key(key, secret.0.clone());
    }
    if let Some(edge) = lookup(EDGE)
        .or_else(|| profile.edge.clone())
        .or_else(|| config.edge.clone())
    {
        builder = builder.edge(edge);
    }
    if let Some(region) = &profile.region {
        builder = builder.region(region.clone());
    }
    if let Some(url) = lookup(BASE_URL) {
        builder = builder.base_url(url);
    }
    Ok(Resolved {
        builder,
        source: Source::Profile {
            name: name.to_owned(),
            path: config.path.clone(),
            chosen,
        },
        notes,
    })
}

/// Whether requests go through the environment's proxy: not with `--no-env-proxy` (`flag`) or
/// [`NO_ENV_PROXY_VAR`], nor to a `TWILIO_BASE_URL` on a loopback host (an emulator).
pub fn env_proxy(flag: bool, lookup: Lookup<'_>) -> Result<bool, CliError> {
    if flag {
        return Ok(false);
    }
    if let Some(value) = lookup(NO_ENV_PROXY_VAR) {
        match value.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => return Ok(false),
            "0" | "false" | "no" | "off" => {}
            _ => {
                return Err(CliError::usage(format!(
                    "{NO_ENV_PROXY_VAR}: expected 1, true, yes or on (no proxy from the \
                     environment) or 0, false, no or off; found {:?}",
                    printable(&value)
                )))
            }
        }
    }
    Ok(!lookup(BASE_URL).is_some_and(|url| is_loopback_url(&url)))
}

/// Whether `url`'s host is a loopback address or `localhost`.
pub fn is_loopback_url(url: &str) -> bool {
    let Ok(url) = url::Url::parse(url.trim()) else {
        return false;
    };
    match url.host() {
        Some(url::Host::Domain(domain)) => {
            let domain = domain.trim_end_matches('.').to_ascii_lowercase();
            domain == "localhost" || domain.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const SECRET: &str = "s3cr3t-profile-secret-value";
    const SID: &str = "AC0123456789abcdef0123456789abcdef";
    const KEY: &str = "SK0123456789abcdef0123456789abcdef";

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name: &str| map.get(name).cloned()
    }

    fn config_dir(name: &str, text: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("trusthub-cli-unit-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.json"), text).unwrap();
        dir
    }

    fn file(profiles: &str, rest: &str) -> String {
        format!("{{\"profiles\": {{{profiles}}}{rest}}}")
    }

    fn prod() -> String {
        format!(
            "\"prod\": {{\"accountSid\": \"{SID}\", \"apiKey\": \"{KEY}\", \"apiSecret\": \
             \"{SECRET}\", \"region\": null, \"edge\": null}}"
        )
    }

    #[test]
    fn the_config_file_is_found_as_twilio_cli_finds_it() {
        let lookup = env(&[("HOME", "/home/ada")]);
        assert_eq!(
            config_path(&lookup).unwrap(),
            Path::new("/home/ada/.twilio-cli/config.json")
        );
        let lookup = env(&[("HOME", "/home/ada"), (CONFIG_DIR_VAR, "/etc/tw")]);
        assert_eq!(
            config_path(&lookup).unwrap(),
            Path::new("/etc/tw/config.json")
        );
        let lookup = env(&[("USERPROFILE", "C:/Users/ada")]);
        assert_eq!(
            config_path(&lookup).unwrap(),
            Path::new("C:/Users/ada/.twilio-cli/config.json")
        );
        assert!(config_path(&env(&[])).is_none());
    }

    #[test]
    fn an_explicit_profile_wins_over_the_environment_and_the_variable_does_not() {
        let dir = config_dir("precedence", &file(&prod(), ""));
        let dir_text = dir.to_str().unwrap();
        let lookup = env(&[
            (CONFIG_DIR_VAR, dir_text),
            (ACCOUNT_SID, "AC00000000000000000000000000000000"),
            (AUTH_TOKEN, "envtoken"),
            (PROFILE_VAR, "prod"),
        ]);
        let flag = resolve(Some("prod"), &lookup).unwrap();
        assert!(matches!(
            &flag.source,
            Source::Profile { name, chosen: Chosen::Flag, .. } if name == "prod"
        ));
        assert!(
            flag.notes[0].contains("TWILIO_AUTH_TOKEN"),
            "{:?}",
            flag.notes
        );
        let debug = format!("{flag:?}");
        assert!(!debug.contains(SECRET), "{debug}");
        assert!(debug.contains(KEY), "{debug}");
        // Without -p, the environment's credentials win over TWILIO_PROFILE (with a note).
        let from_env = resolve(None, &lookup).unwrap();
        assert_eq!(from_env.source, Source::Environment);
        assert!(from_env.notes[0].starts_with("TWILIO_PROFILE=\"prod\" is not used"));
        // Without them, TWILIO_PROFILE names the profile.
        let lookup = env(&[(CONFIG_DIR_VAR, dir_text), (PROFILE_VAR, "prod")]);
        let variable = resolve(None, &lookup).unwrap();
        assert!(matches!(
            variable.source,
            Source::Profile {
                chosen: Chosen::Variable,
                ..
            }
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_active_profile_is_used_unless_twilio_cli_requires_a_name() {
        let dir = config_dir("active", &file(&prod(), ", \"activeProject\": \"prod\""));
        let lookup = env(&[(CONFIG_DIR_VAR, dir.to_str().unwrap())]);
        let active = resolve(None, &lookup).unwrap();
        assert!(matches!(
            active.source,
            Source::Profile {
                chosen: Chosen::Active,
                ..
            }
        ));
        assert!(active.notes[0].contains("active profile \"prod\""));
        std::fs::write(
            dir.join("config.json"),
            file(
                &prod(),
                ", \"activeProject\": \"prod\", \"requireProfileInput\": true",
            ),
        )
        .unwrap();
        let err = resolve(None, &lookup).unwrap_err();
        assert!(err.message.contains("used only with -p"), "{}", err.message);
        // No active profile: the profiles are named.
        std::fs::write(dir.join("config.json"), file(&prod(), "")).unwrap();
        let err = resolve(None, &lookup).unwrap_err();
        assert!(
            err.message
                .contains("has profiles \"prod\" but none is active"),
            "{}",
            err.message
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn errors_name_the_file_and_the_profiles_never_the_secret() {
        let dir = config_dir(
            "errors",
            &file(
                &prod(),
                ", \"projects\": [{\"id\": \"legacy\", \"accountSid\": \"AC0\"}]",
            ),
        );
        let lookup = env(&[(CONFIG_DIR_VAR, dir.to_str().unwrap())]);
        let missing = resolve(Some("staging"), &lookup).unwrap_err();
        assert_eq!(missing.code, crate::EXIT_USAGE);
        assert!(
            missing.message.contains(&format!(
                "no twilio-cli profile \"staging\" in {}",
                dir.join("config.json").display()
            )),
            "{}",
            missing.message
        );
        assert!(
            missing
                .message
                .contains("it has \"prod\", \"legacy\" (OS keychain)"),
            "{}",
            missing.message
        );
        let keychain = resolve(Some("legacy"), &lookup).unwrap_err();
        assert!(
            keychain.message.contains("operating system's keychain"),
            "{}",
            keychain.message
        );
        // A secret of the wrong type: named by key, its value not shown.
        std::fs::write(
            dir.join("config.json"),
            format!("{{\"profiles\": {{\"prod\": {{\"accountSid\": \"{SID}\", \"apiKey\": \"{KEY}\", \"apiSecret\": 12345678987}}}}}}"),
        )
        .unwrap();
        let wrong = resolve(Some("prod"), &lookup).unwrap_err();
        assert!(
            wrong
                .message
                .contains("profiles.\"prod\".apiSecret: expected a string; found a number"),
            "{}",
            wrong.message
        );
        assert!(!wrong.message.contains("12345678987"));
        // Not JSON: the place, not the text.
        std::fs::write(
            dir.join("config.json"),
            format!("{{\"profiles\": {{\"prod\": {{\"apiSecret\": \"{SECRET}\" oops"),
        )
        .unwrap();
        let broken = resolve(Some("prod"), &lookup).unwrap_err();
        assert!(
            broken
                .message
                .contains("is not valid JSON (a syntax error at line 1"),
            "{}",
            broken.message
        );
        assert!(!broken.message.contains(SECRET) && !broken.message.contains("oops"));
        // No file at all.
        std::fs::remove_file(dir.join("config.json")).unwrap();
        let none = resolve(Some("prod"), &lookup).unwrap_err();
        assert!(
            none.message
                .contains("there is no twilio-cli config file at"),
            "{}",
            none.message
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_api_key_equal_to_the_account_sid_is_an_auth_token() {
        let profile = format!(
            "\"token\": {{\"accountSid\": \"{SID}\", \"apiKey\": \"{SID}\", \"apiSecret\": \"{SECRET}\"}}"
        );
        let dir = config_dir("token", &file(&profile, ""));
        let lookup = env(&[(CONFIG_DIR_VAR, dir.to_str().unwrap())]);
        let resolved = resolve(Some("token"), &lookup).unwrap();
        let debug = format!("{:?}", resolved.builder);
        assert!(debug.contains("auth token [redacted]"), "{debug}");
        assert!(!debug.contains(SECRET), "{debug}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_environment_proxy_is_skipped_on_request_and_for_loopback() {
        let none = env(&[]);
        assert!(env_proxy(false, &none).unwrap());
        assert!(!env_proxy(true, &none).unwrap());
        for on in ["1", "true", "YES", "on"] {
            assert!(!env_proxy(false, &env(&[(NO_ENV_PROXY_VAR, on)])).unwrap());
        }
        for off in ["0", "false", "no", "Off"] {
            assert!(env_proxy(false, &env(&[(NO_ENV_PROXY_VAR, off)])).unwrap());
        }
        let err = env_proxy(false, &env(&[(NO_ENV_PROXY_VAR, "maybe")])).unwrap_err();
        assert!(
            err.message
                .starts_with("TRUSTHUB_NO_ENV_PROXY: expected 1, true, yes or on"),
            "{}",
            err.message
        );
        assert!(err.message.ends_with("found \"maybe\""), "{}", err.message);
        for loopback in [
            "http://127.0.0.1:4010",
            "http://localhost:4010/",
            "http://[::1]:4010",
            "http://127.3.2.1",
            "http://[::ffff:127.0.0.1]:80",
        ] {
            assert!(is_loopback_url(loopback), "{loopback}");
            assert!(!env_proxy(false, &env(&[(BASE_URL, loopback)])).unwrap());
        }
        for remote in [
            "https://trusthub.twilio.com",
            "https://mock.example.com",
            "https://10.0.0.1",
            "not a url",
        ] {
            assert!(!is_loopback_url(remote), "{remote}");
        }
        assert!(env_proxy(false, &env(&[(BASE_URL, "https://mock.example.com")])).unwrap());
    }
}
