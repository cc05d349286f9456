//! The journal: what it holds (no personal data), and the file store: atomic, one writer at a
//! time, its digest key beside it, an emptied file refused.

use trusthub::flow::{FileStore, Journal, JournalStore};
use trusthub_emulator::{start, EmulatorConfig};

use crate::fixtures;

fn temp_path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("trusthub-journal-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("flow.journal")
}

#[tokio::test]
async fn the_file_store_keeps_the_last_journal_atomically_and_without_personal_data() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let client = fixtures::client(&emulator);
    let path = temp_path("atomic");
    let store = FileStore::open(&path).unwrap();
    assert!(store.load().unwrap().is_none(), "no file yet");
    let flow = fixtures::input(&emulator, "Journal Test Co")
        .build()
        .unwrap();
    let report = client
        .secondary_profile(&flow)
        .journal(store.clone())
        .run()
        .await
        .unwrap();
    let loaded = store.load().unwrap().expect("a journal was written");
    assert_eq!(loaded, report.journal);
    // The journal, its key and its lock: the temporary file was renamed over the journal.
    let mut names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["flow.journal", "flow.journal.key", "flow.journal.lock"]
    );
    let text = std::fs::read_to_string(&path).unwrap();
    for pii in [
        "Journal Test Co",
        "ops@journal.example.com",
        "Jo1",
        "+12025550121",
        "9 Ledger Lane",
        "111222333",
    ] {
        assert!(!text.contains(pii), "{pii} in the journal:\n{text}");
    }
    assert!(text.contains(&report.bundle().to_string()));
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

#[test]
fn a_corrupt_or_emptied_journal_file_is_a_clear_error() {
    let path = temp_path("corrupt");
    std::fs::write(&path, "{ not a journal").unwrap();
    // A journal without its key file cannot be opened: its digests could not be checked.
    let error = FileStore::open(&path).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
    assert!(error.to_string().contains("has no key file"), "{error}");
    std::fs::remove_file(&path).unwrap();
    let store = FileStore::open(&path).unwrap();
    std::fs::write(&path, "{ not a journal").unwrap();
    let error = store.load().unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
    assert!(
        error.to_string().contains("is not a flow journal"),
        "{error}"
    );
    std::fs::write(&path, "").unwrap();
    let error = store.load().unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
    assert!(error.to_string().contains("is empty"), "{error}");
    drop(store);
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

#[test]
fn a_second_writer_is_refused_naming_the_first() {
    let path = temp_path("lock");
    let first = FileStore::open(&path).unwrap();
    let error = FileStore::open(&path).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::WouldBlock);
    let message = error.to_string();
    assert!(
        message.contains(&format!("is in use by pid {} on ", std::process::id())),
        "{message}"
    );
    drop(first);
    FileStore::open(&path).expect("free once the first writer is gone");
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

#[test]
fn journals_round_trip_through_json() {
    let store = trusthub::flow::MemoryStore::new();
    let journal: Journal = Journal::from_json(
        r#"{"format":2,"flow_id":"th-0000000000000001","key_id":"00","input":{},
            "started_at":"2026-11-24T00:00:00Z","bundle":"BU0123456789abcdef0123456789abcdef",
            "intents":{"address":{"at":"2026-11-24T00:00:01Z"}}}"#,
    )
    .unwrap();
    store.save(&journal).unwrap();
    assert_eq!(
        Journal::from_json(&store.latest().unwrap().to_json()).unwrap(),
        journal
    );
    // A journal naming a malformed SID is refused, not half-read.
    let bad = journal
        .to_json()
        .replace("BU0123456789abcdef0123456789abcdef", "BU123");
    assert!(Journal::from_json(&bad).is_err());
}
