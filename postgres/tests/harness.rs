//! The test clusters themselves: found or named as missing, stopped by PID even when the test
//! panics.

use std::path::Path;

use crate::support::{find_bin_dir, Cluster};

fn alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid as libc::pid_t, 0) == 0 }
}

#[test]
fn a_panicking_test_still_stops_its_cluster() {
    let mut seen = None;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let cluster = Cluster::start();
        seen = Some((cluster.pid(), cluster.dir().to_path_buf()));
        assert!(alive(cluster.pid()));
        panic!("a failing test");
    }));
    assert!(outcome.is_err());
    let (pid, dir) = seen.expect("the cluster started");
    assert!(!alive(pid), "postgres (pid {pid}) still runs");
    assert!(!dir.exists(), "{} is left behind", dir.display());
}

#[test]
fn missing_server_programs_fail_the_test_naming_the_package() {
    let empty = std::env::temp_dir().join(format!("trusthub-pg-empty-{}", std::process::id()));
    std::fs::create_dir_all(empty.join("15/bin")).unwrap();
    let missing = find_bin_dir(Some(empty.clone().into_os_string()), &empty).unwrap_err();
    assert!(missing.contains("`postgresql`"), "{missing}");
    assert!(missing.contains("never skipped"), "{missing}");
    // Found in the versioned directory, the newest first.
    for version in ["13", "15"] {
        let bin = empty.join(version).join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        for program in ["initdb", "postgres"] {
            std::fs::write(bin.join(program), "").unwrap();
        }
    }
    assert_eq!(find_bin_dir(None, &empty).unwrap(), empty.join("15/bin"));
    assert_eq!(
        find_bin_dir(
            Some(empty.join("13/bin").into_os_string()),
            Path::new("/nonexistent")
        )
        .unwrap(),
        std::fs::canonicalize(empty.join("13/bin")).unwrap()
    );
    std::fs::remove_dir_all(&empty).unwrap();
}
