//! Priorities and job identities.

use core::fmt;

/// How urgent a job is: among ready jobs, a higher priority always starts
/// first; equal priorities start in submission order.
///
/// Any `u8` is a level of its own; [`LOW`](Priority::LOW),
/// [`NORMAL`](Priority::NORMAL) (the default) and [`HIGH`](Priority::HIGH)
/// leave room above, below and between them.
///
/// ```
/// use weir_core::Priority;
///
/// assert!(Priority::HIGH > Priority::NORMAL);
/// assert!(Priority::new(65) > Priority::LOW);
/// assert_eq!(Priority::default(), Priority::NORMAL);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Priority(u8);

impl Priority {
    /// The lowest priority of all.
    pub const MIN: Priority = Priority(0);
    /// Background work.
    pub const LOW: Priority = Priority(64);
    /// The default.
    pub const NORMAL: Priority = Priority(128);
    /// Work that should overtake normal work.
    pub const HIGH: Priority = Priority(192);
    /// The highest priority of all.
    pub const MAX: Priority = Priority(u8::MAX);

    /// The priority of level `level`; higher starts first.
    ///
    /// ```
    /// use weir_core::Priority;
    /// assert_eq!(Priority::new(192), Priority::HIGH);
    /// ```
    pub const fn new(level: u8) -> Self {
        Priority(level)
    }

    /// The level of this priority.
    ///
    /// ```
    /// assert_eq!(weir_core::Priority::LOW.level(), 64);
    /// ```
    pub const fn level(self) -> u8 {
        self.0
    }
}

impl Default for Priority {
    fn default() -> Self {
        Priority::NORMAL
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "priority {}", self.0)
    }
}

/// The identity of a submitted job, unique within its scheduler and
/// increasing in submission order.
///
/// ```
/// use weir_core::sched::TaskId;
/// assert!(TaskId::from_raw(1) < TaskId::from_raw(2));
/// assert_eq!(TaskId::from_raw(7).to_string(), "#7");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(u64);

impl TaskId {
    /// The id with the raw value `raw`, to compare with ids a scheduler
    /// reported.
    ///
    /// ```
    /// assert_eq!(weir_core::sched::TaskId::from_raw(3).as_u64(), 3);
    /// ```
    pub const fn from_raw(raw: u64) -> Self {
        TaskId(raw)
    }

    /// The raw value.
    ///
    /// ```
    /// assert_eq!(weir_core::sched::TaskId::from_raw(9).as_u64(), 9);
    /// ```
    pub const fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}
