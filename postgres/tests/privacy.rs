//! What the database holds: no customer key and no personal value in clear, read back with SQL.

use std::time::Duration;

use trusthub::flow::JournalStore;
use trusthub_postgres::conformance::journal;
use trusthub_postgres::{Outcome, PgQueue, StoreKey};

use crate::support::Cluster;

/// Personal values of a customer's input, each one distinctive enough to be searched for.
const VALUES: [&str; 8] = [
    "Zyxwvut Plumbing LLC",
    "jane.roe@zyxwvut-plumbing.example",
    "+15005550006",
    "12-3456789",
    "1234 Quuxwell Avenue",
    "Janequinta",
    "Roevelstad",
    "https://zyxwvut-plumbing.example",
];
const CUSTOMER_KEY: &str = "crm-4711-zyxwvut";

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn the_stored_rows_hold_no_personal_value_in_clear() {
    let cluster = Cluster::start();
    let url = cluster.database("privacy").await;
    let queue = PgQueue::connect(&url, StoreKey::generate().unwrap())
        .await
        .unwrap();
    let input = serde_json::json!({
        "business_name": VALUES[0],
        "email": VALUES[1],
        "phone": VALUES[2],
        "ein": VALUES[3],
        "street": VALUES[4],
        "first_name": VALUES[5],
        "last_name": VALUES[6],
        "website": VALUES[7],
    })
    .to_string();
    queue.enqueue(CUSTOMER_KEY, input.as_bytes()).await.unwrap();
    let lease = queue
        .lease("w1", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lease.input().as_bytes(), input.as_bytes());
    // A journal as the flow writes it: keyed digests of the input's parts.
    let store = lease.store();
    let mut saved = journal("th-privacy", store.digest_key());
    let digests = std::sync::Arc::make_mut(&mut saved.input);
    for (part, value) in ["business_information", "address", "representative_1"]
        .iter()
        .zip(VALUES)
    {
        digests.insert(
            (*part).into(),
            store.digest_key().digest(part, value.as_bytes()),
        );
    }
    store.save(&saved).unwrap();
    queue
        .finish(&lease, Outcome::Failed("field `email` was refused".into()))
        .await
        .unwrap();

    // Everything the trusthub schema holds, as text (bytea as hex).
    let admin = cluster.client("privacy").await;
    let tables: Vec<String> = admin
        .query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'trusthub'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(tables.contains(&"jobs".to_owned()), "{tables:?}");
    let mut dump = String::new();
    for table in &tables {
        let rows = admin
            .query(
                &format!("SELECT row_to_json(t)::text FROM trusthub.{table} t"),
                &[],
            )
            .await
            .unwrap();
        for row in rows {
            dump.push_str(row.get::<_, &str>(0));
            dump.push('\n');
        }
    }
    assert!(dump.contains("th-privacy"), "the journal is there: {dump}");
    let lower = dump.to_lowercase();
    for value in VALUES.iter().chain([&CUSTOMER_KEY]) {
        assert!(
            !lower.contains(&value.to_lowercase()),
            "{value} in clear:\n{dump}"
        );
        assert!(!lower.contains(&hex(value)), "{value} in hex:\n{dump}");
    }
    for part in ["Zyxwvut", "Quuxwell", "Janequinta"] {
        assert!(!lower.contains(&part.to_lowercase()), "{part}:\n{dump}");
    }
    // The row is filed under the customer key's keyed digest.
    let customer: String = admin
        .query_one("SELECT customer FROM trusthub.jobs", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(customer, queue.customer_digest(CUSTOMER_KEY));
    assert_eq!(customer.len(), 32);

    // Nor do the handles show the input.
    let again = queue.status(CUSTOMER_KEY).await.unwrap().unwrap();
    for shown in [
        format!("{again:?}"),
        format!("{lease:?}"),
        format!("{queue:?}"),
    ] {
        for value in VALUES {
            assert!(!shown.contains(value), "{value} in {shown}");
        }
    }
}
