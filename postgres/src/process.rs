//! Which process a worker runs in, so that a worker on the same machine can tell, at once and
//! for sure, that another one is gone (killed outright, its heartbeat not lapsed yet).

use std::fmt;

/// The process a worker of the account's budget runs in ([`PgQueue::budget_share_in`]).
///
/// On Linux: the kernel's boot id, the PID namespace's inode, the process id and the process's
/// start time (clock ticks since boot). Two processes never have all four equal, so a worker
/// whose boot id and namespace are this process's can look its peer up in `/proc`: no such
/// process, or one started at another time (its id reused), means the peer is gone and its share
/// of the budget is given back at once instead of when its heartbeat lapses. Elsewhere (another
/// machine, another container's namespace, another system) nothing is known and the heartbeat
/// decides. Holds no personal data.
///
/// [`PgQueue::budget_share_in`]: crate::PgQueue::budget_share_in
#[derive(Clone, PartialEq, Eq)]
pub struct WorkerProcess(String);

impl fmt::Debug for WorkerProcess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WorkerProcess").field(&self.0).finish()
    }
}

impl WorkerProcess {
    /// This process; `None` where `/proc` does not tell (not Linux).
    pub fn current() -> Option<WorkerProcess> {
        Self::of(std::process::id())
    }

    /// The process `pid` of this machine and PID namespace; `None` when it does not exist (or
    /// `/proc` does not tell).
    pub fn of(pid: u32) -> Option<WorkerProcess> {
        let boot = boot_id()?;
        let ns = namespace("self")?;
        let started = start_time(pid)?;
        Some(WorkerProcess(format!("linux:{boot}:{ns}:{pid}:{started}")))
    }

    /// The text stored in `trusthub.workers.process`.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// The prefix every process of this machine and PID namespace has in its text.
    pub(crate) fn local_prefix() -> Option<String> {
        Some(format!("linux:{}:{}:", boot_id()?, namespace("self")?))
    }

    /// Whether the process `text` names (one of this machine and namespace: its text starts
    /// with [`local_prefix`](Self::local_prefix)) is gone: no process with its id, or one
    /// started at another time. `false` when unsure.
    pub(crate) fn is_gone(text: &str) -> bool {
        let Some(prefix) = Self::local_prefix() else {
            return false;
        };
        let Some(rest) = text.strip_prefix(&prefix) else {
            return false;
        };
        let Some((pid, started)) = rest.split_once(':') else {
            return false;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            return false;
        };
        match start_time(pid) {
            Some(now) => now != started,
            // No such process: unless /proc itself cannot be read.
            None => std::path::Path::new("/proc/self/stat").exists(),
        }
    }
}

fn boot_id() -> Option<String> {
    let id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let id = id.trim();
    (!id.is_empty() && !id.contains(':')).then(|| id.to_owned())
}

/// The inode of the PID namespace, from the link `pid:[4026531836]`.
fn namespace(of: &str) -> Option<String> {
    let link = std::fs::read_link(format!("/proc/{of}/ns/pid")).ok()?;
    let link = link.to_str()?;
    let inode = link.strip_prefix("pid:[")?.strip_suffix(']')?;
    inode
        .chars()
        .all(|c| c.is_ascii_digit())
        .then(|| inode.to_owned())
}

/// Field 22 of `/proc/PID/stat` (after the command name, which may hold spaces and parentheses).
fn start_time(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, after) = stat.rsplit_once(')')?;
    // Fields 3.. follow the name; the start time is field 22.
    let started = after.split_whitespace().nth(19)?;
    started
        .chars()
        .all(|c| c.is_ascii_digit())
        .then(|| started.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_not_gone_and_a_reaped_child_is() {
        let me = WorkerProcess::current().expect("Linux: /proc tells");
        assert!(!WorkerProcess::is_gone(me.as_str()));
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let it = WorkerProcess::of(child.id()).expect("a live child");
        assert!(!WorkerProcess::is_gone(it.as_str()));
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(WorkerProcess::is_gone(it.as_str()));
        // Same id, another start time: the id was reused.
        let reused = me.as_str().rsplit_once(':').unwrap().0.to_owned() + ":1";
        assert!(WorkerProcess::is_gone(&reused));
        // Another machine or namespace: unknown, so not gone.
        assert!(!WorkerProcess::is_gone("linux:other-boot:1:1:1"));
        assert!(!WorkerProcess::is_gone("garbage"));
    }
}
