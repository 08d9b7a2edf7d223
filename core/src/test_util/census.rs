//! Counting processes from `/proc` (Linux, feature `test-util`): the
//! evidence for "no zombie and no leaked process after any test".
//!
//! A supervisor's promise is about processes it never held a handle to
//! (a server's own children), so a test has to look at the process table
//! itself: which processes are still in a group, which children of this
//! process are zombies.
//!
//! ```
//! use weir_core::test_util::census;
//!
//! let me = std::process::id();
//! assert!(census::processes().unwrap().iter().any(|p| p.pid == me));
//! // Nobody leads a group with an impossible id.
//! assert!(census::group_members(i32::MAX as u32).unwrap().is_empty());
//! ```

use std::fs;
use std::io;

/// One line of the process table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Process {
    /// Its id.
    pub pid: u32,
    /// Its parent's id.
    pub ppid: u32,
    /// Its process group's id.
    pub pgid: u32,
    /// Its state letter as `/proc/<pid>/stat` shows it (`R`, `S`, `Z`, ...).
    pub state: char,
    /// Its command name (at most 15 bytes, as the kernel keeps it).
    pub comm: String,
}

impl Process {
    /// Whether it has exited and waits for its parent to reap it.
    ///
    /// ```
    /// let me = weir_core::test_util::census::processes().unwrap()
    ///     .into_iter().find(|p| p.pid == std::process::id()).unwrap();
    /// assert!(!me.is_zombie());
    /// ```
    pub fn is_zombie(&self) -> bool {
        matches!(self.state, 'Z' | 'X')
    }
}

/// Every process visible in `/proc` (those that vanish while it reads are
/// skipped).
///
/// ```
/// assert!(!weir_core::test_util::census::processes().unwrap().is_empty());
/// ```
pub fn processes() -> io::Result<Vec<Process>> {
    let mut out = Vec::new();
    for entry in fs::read_dir("/proc")? {
        let entry = entry?;
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        // A process may exit between read_dir and this read.
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        if let Some(p) = parse_stat(pid, &stat) {
            out.push(p);
        }
    }
    Ok(out)
}

/// The processes in group `pgid`, zombies included.
///
/// ```
/// use weir_core::test_util::census;
/// let mine = census::processes().unwrap().into_iter()
///     .find(|p| p.pid == std::process::id()).unwrap();
/// assert!(census::group_members(mine.pgid).unwrap().iter().any(|p| p.pid == mine.pid));
/// ```
pub fn group_members(pgid: u32) -> io::Result<Vec<Process>> {
    Ok(processes()?
        .into_iter()
        .filter(|p| p.pgid == pgid)
        .collect())
}

/// The children of `ppid`, zombies included.
///
/// ```
/// let kids = weir_core::test_util::census::children_of(std::process::id()).unwrap();
/// # drop(kids);
/// ```
pub fn children_of(ppid: u32) -> io::Result<Vec<Process>> {
    Ok(processes()?
        .into_iter()
        .filter(|p| p.ppid == ppid)
        .collect())
}

/// The children of this process that are zombies (exited, not reaped).
///
/// ```
/// assert!(weir_core::test_util::census::zombie_children().unwrap().is_empty());
/// ```
pub fn zombie_children() -> io::Result<Vec<Process>> {
    Ok(children_of(std::process::id())?
        .into_iter()
        .filter(Process::is_zombie)
        .collect())
}

/// `pid (comm) state ppid pgrp ...`; comm may hold spaces and parentheses,
/// so the fields after it are found from the last `)`.
fn parse_stat(pid: u32, stat: &str) -> Option<Process> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_owned();
    let mut rest = stat.get(close + 1..)?.split_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    let pgid = rest.next()?.parse().ok()?;
    Some(Process {
        pid,
        ppid,
        pgid,
        state,
        comm,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_with_spaces_and_parentheses() {
        let p = parse_stat(7, "7 (a (b) c) Z 3 5 5 0 -1").unwrap();
        assert_eq!(
            p,
            Process {
                pid: 7,
                ppid: 3,
                pgid: 5,
                state: 'Z',
                comm: "a (b) c".into()
            }
        );
        assert!(p.is_zombie());
        assert!(parse_stat(1, "garbage").is_none());
    }
}
