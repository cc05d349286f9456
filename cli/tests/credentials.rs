//! Where the command's credentials come from (a twilio-cli profile, the environment) and whether
//! its requests go through the environment's proxy, running the real binary.

use crate::support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{temp_dir, TestEmulator};
use trusthub_emulator::EmulatorConfig;

/// The API key the emulator accepts, and its secret, which must never be printed.
const KEY: &str = "SKfeedfacefeedfacefeedfacefeedface";
const SECRET: &str = "profile-secret-0f9e8d7c6b5a";
/// An auth token the emulator refuses.
const WRONG_TOKEN: &str = "00000000000000000000000000000000";

fn emulator() -> TestEmulator {
    TestEmulator::with_config(EmulatorConfig::default().with_api_key(KEY, SECRET))
}

/// A twilio-cli config file (its 3.0+ shape) in `dir`: profile `isv` with the emulator's API key,
/// `stale` with a secret the emulator refuses, `legacy` from before 3.0 (keychain), and `rest`
/// (`"activeProject": ...` and more) at the top level.
fn write_config(dir: &Path, emulator: &TestEmulator, rest: &str) {
    let sid = emulator.account_sid();
    let text = format!(
        r#"{{
  "edge": null,
  "email": {{}},
  "prompts": {{}},
  "projects": [{{"id": "legacy", "accountSid": "{sid}", "region": null}}],
  "profiles": {{
    "isv": {{"accountSid": "{sid}", "region": null, "edge": null, "apiKey": "{KEY}", "apiSecret": "{SECRET}"}},
    "stale": {{"accountSid": "{sid}", "apiKey": "{KEY}", "apiSecret": "an-old-secret"}}
  }}{rest}
}}"#
    );
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("config.json"), text).unwrap();
}

fn texts(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs `policies list` with `setup` applied; returns the exit code, stdout and stderr, and
/// checks that the profile's secret appears in neither.
fn policies(
    emulator: &TestEmulator,
    setup: impl FnOnce(&mut std::process::Command),
) -> (Option<i32>, String, String) {
    let mut cmd = emulator.command();
    setup(&mut cmd);
    let output = cmd.args(["policies", "list"]).output().unwrap();
    let (stdout, stderr) = texts(&output);
    assert!(
        !stdout.contains(SECRET) && !stderr.contains(SECRET),
        "the secret was printed:\n{stdout}\n{stderr}"
    );
    (output.status.code(), stdout, stderr)
}

const SECONDARY_POLICY: &str = "RNdfbf3fae0e1107f8aded0e7cead80bf5";

#[test]
fn a_profile_named_with_p_wins_over_the_environment_and_its_key_is_the_one_sent() {
    let emulator = emulator();
    let dir = temp_dir("profile-p");
    write_config(&dir, &emulator, "");
    let config_dir = |cmd: &mut std::process::Command| {
        cmd.env("TWILIO_CONFIG_DIR", &dir)
            .env("TWILIO_AUTH_TOKEN", WRONG_TOKEN);
    };
    // The environment's (wrong) token alone is refused by the emulator...
    let (code, _, stderr) = policies(&emulator, |cmd| config_dir(cmd));
    assert_eq!(code, Some(1), "{stderr}");
    // ... -p isv sends the profile's API key instead, and says the environment is not used.
    let (code, stdout, stderr) = policies(&emulator, |cmd| {
        config_dir(cmd);
        cmd.args(["-p", "isv", "--verbose"]);
    });
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains(SECONDARY_POLICY), "{stdout}");
    assert!(
        stderr.contains(
            "note: -p \"isv\": the credentials of this twilio-cli profile are used; those of \
             TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN in the environment are not"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("credentials from a twilio-cli profile"),
        "{stderr}"
    );
    // A profile whose secret the emulator refuses fails: its key is what was sent.
    let (code, _, stderr) = policies(&emulator, |cmd| {
        config_dir(cmd);
        cmd.args(["--profile", "stale"]);
    });
    assert_eq!(code, Some(1), "{stderr}");
    // The default place, ~/.twilio-cli/config.json, is found through HOME.
    let home = temp_dir("profile-home");
    write_config(&home.join(".twilio-cli"), &emulator, "");
    let (code, _, stderr) = policies(&emulator, |cmd| {
        cmd.env_remove("TWILIO_CONFIG_DIR")
            .env("HOME", &home)
            .env("TWILIO_AUTH_TOKEN", WRONG_TOKEN)
            .args(["-p", "isv"]);
    });
    assert_eq!(code, Some(0), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&home).unwrap();
}

#[test]
fn twilio_profile_and_the_active_profile_come_after_the_environment() {
    let emulator = emulator();
    let dir = temp_dir("profile-env");
    write_config(&dir, &emulator, r#", "activeProject": "isv""#);
    let no_env = |cmd: &mut std::process::Command| {
        cmd.env("TWILIO_CONFIG_DIR", &dir)
            .env_remove("TWILIO_ACCOUNT_SID")
            .env_remove("TWILIO_AUTH_TOKEN");
    };
    // TWILIO_PROFILE names the profile when no credential variable is set.
    let (code, _, stderr) = policies(&emulator, |cmd| {
        no_env(cmd);
        cmd.env("TWILIO_PROFILE", "isv");
    });
    assert_eq!(code, Some(0), "{stderr}");
    let (code, _, stderr) = policies(&emulator, |cmd| {
        no_env(cmd);
        cmd.env("TWILIO_PROFILE", "stale");
    });
    assert_eq!(code, Some(1), "{stderr}");
    // With credential variables set, they win over TWILIO_PROFILE (which would fail here).
    let (code, _, stderr) = policies(&emulator, |cmd| {
        cmd.env("TWILIO_CONFIG_DIR", &dir)
            .env("TWILIO_PROFILE", "stale");
    });
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("note: TWILIO_PROFILE=\"stale\" is not used"),
        "{stderr}"
    );
    // Nothing named: twilio-cli's active profile.
    let (code, _, stderr) = policies(&emulator, no_env);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("note: using twilio-cli's active profile \"isv\""),
        "{stderr}"
    );
    // ... unless twilio-cli is configured to require -p.
    write_config(
        &dir,
        &emulator,
        r#", "activeProject": "isv", "requireProfileInput": true"#,
    );
    let served = emulator.counters().requests_served;
    let (code, _, stderr) = policies(&emulator, no_env);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("used only with -p"), "{stderr}");
    assert_eq!(emulator.counters().requests_served, served);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_profile_a_broken_file_and_a_keychain_profile_are_clear_errors() {
    let emulator = emulator();
    let dir = temp_dir("profile-errors");
    write_config(&dir, &emulator, "");
    let file = dir.join("config.json");
    let with = |name: &'static str| {
        let dir = dir.clone();
        move |cmd: &mut std::process::Command| {
            cmd.env("TWILIO_CONFIG_DIR", &dir).args(["-p", name]);
        }
    };
    // A name the file does not have: the file and the names it has (names only).
    let (code, _, stderr) = policies(&emulator, with("staging"));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: no twilio-cli profile \"staging\" in {} (it has \"isv\", \"stale\", \
             \"legacy\" (OS keychain))",
            file.display()
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains(KEY) && !stderr.contains("an-old-secret"),
        "{stderr}"
    );
    // A profile of twilio-cli before 3.0: its secret is in the OS keychain.
    let (code, _, stderr) = policies(&emulator, with("legacy"));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("keeps its API key and secret in the operating system's keychain")
            && stderr.contains("twilio profiles:create legacy"),
        "{stderr}"
    );
    // A file that does not parse: named, with the place, never its text.
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, &text[..text.len() / 2]).unwrap();
    let (code, _, stderr) = policies(&emulator, with("isv"));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: twilio-cli's config file {} is not valid JSON",
            file.display()
        )),
        "{stderr}"
    );
    // No file at all.
    std::fs::remove_file(&file).unwrap();
    let (code, _, stderr) = policies(&emulator, with("isv"));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "there is no twilio-cli config file at {}",
            file.display()
        )),
        "{stderr}"
    );
    assert_eq!(emulator.counters().requests_served, 0, "nothing was sent");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A stand-in for a corporate proxy on 127.0.0.1: records the first line of every request it
/// receives and refuses it (403), so that nothing goes further. Stops after `life`.
struct Proxy {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    fn start(life: Duration) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen: Arc<Mutex<Vec<String>>> = Default::default();
        let record = seen.clone();
        std::thread::spawn(move || {
            let until = Instant::now() + life;
            while Instant::now() < until {
                let Ok((mut stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                stream.set_nonblocking(false).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .unwrap();
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 65536 {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&request);
                record
                    .lock()
                    .unwrap()
                    .push(text.lines().next().unwrap_or_default().to_owned());
                let _ = stream.write_all(
                    b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        Proxy { url, seen }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

#[test]
fn requests_to_twilio_go_through_the_environment_proxy_and_an_emulator_never_does() {
    let emulator = TestEmulator::start(Duration::ZERO);
    let proxy = Proxy::start(Duration::from_secs(120));
    let proxied = |cmd: &mut std::process::Command| {
        for name in ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"] {
            cmd.env(name, &proxy.url);
        }
    };
    // The emulator is on a loopback address: straight there, whatever the environment says.
    let (code, _, stderr) = policies(&emulator, |cmd| proxied(cmd));
    assert_eq!(code, Some(0), "{stderr}");
    let (code, _, stderr) = policies(&emulator, |cmd| {
        proxied(cmd);
        cmd.arg("--emulator");
    });
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(proxy.seen(), Vec::<String>::new());
    // Any other host (here a reserved name that exists nowhere, so that nothing goes further
    // than the proxy): through the proxy, as a CONNECT tunnel naming only the host.
    let (code, _, stderr) = policies(&emulator, |cmd| {
        proxied(cmd);
        cmd.env("TWILIO_BASE_URL", "https://trusthub.invalid");
    });
    assert_eq!(code, Some(1), "{stderr}");
    let seen = proxy.seen();
    assert!(!seen.is_empty(), "the proxy saw nothing: {stderr}");
    assert!(
        seen.iter()
            .all(|line| line == "CONNECT trusthub.invalid:443 HTTP/1.1"),
        "{seen:?}"
    );
    // A bad opt-out value is refused before anything is sent.
    let before = proxy.seen().len();
    let (code, _, stderr) = policies(&emulator, |cmd| {
        proxied(cmd);
        cmd.env("TWILIO_BASE_URL", "https://trusthub.invalid")
            .env("TRUSTHUB_NO_ENV_PROXY", "sometimes");
    });
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("error: TRUSTHUB_NO_ENV_PROXY: expected 1, true, yes or on"),
        "{stderr}"
    );
    assert_eq!(proxy.seen().len(), before);
}
