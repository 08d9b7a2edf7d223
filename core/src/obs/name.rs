//! The name a component carries in its events and metric labels.

use std::borrow::Cow;
use std::fmt;

/// What a builder's `name` setter stores: `"default"` unless set.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Name(Cow<'static, str>);

impl Name {
    pub(crate) const DEFAULT: &'static str = "default";

    pub(crate) fn new(name: impl Into<Cow<'static, str>>) -> Self {
        Name(name.into())
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    #[cfg(feature = "metrics")]
    pub(crate) fn label(&self) -> metrics::Label {
        metrics::Label::new("name", self.0.clone())
    }
}

impl Default for Name {
    fn default() -> Self {
        Name(Cow::Borrowed(Self::DEFAULT))
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
