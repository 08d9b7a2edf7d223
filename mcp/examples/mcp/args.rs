//! The few flags the subcommands take, parsed by hand.

use std::collections::HashMap;

/// Flags as given: `--name value` pairs and bare switches.
#[derive(Debug, Default)]
pub struct Args {
    values: HashMap<String, String>,
    switches: Vec<String>,
}

/// Flags that take no value.
const SWITCHES: [&str; 2] = ["--server-stderr", "--json"];

impl Args {
    pub fn parse(argv: impl Iterator<Item = String>) -> Result<Args, String> {
        let mut args = Args::default();
        let mut argv = argv.peekable();
        while let Some(flag) = argv.next() {
            if !flag.starts_with("--") {
                return Err(format!("unexpected argument `{flag}`"));
            }
            if SWITCHES.contains(&flag.as_str()) {
                args.switches.push(flag);
                continue;
            }
            let (name, value) = match flag.split_once('=') {
                Some((n, v)) => (n.to_owned(), v.to_owned()),
                None => {
                    let v = argv.next().ok_or(format!("`{flag}` needs a value"))?;
                    (flag, v)
                }
            };
            if args.values.insert(name.clone(), value).is_some() {
                return Err(format!("`{name}` given twice"));
            }
        }
        Ok(args)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    pub fn required(&self, name: &str) -> Result<&str, String> {
        self.get(name).ok_or(format!("`{name}` is required"))
    }

    pub fn switch(&self, name: &str) -> bool {
        self.switches.iter().any(|s| s == name)
    }

    /// A number flag, or `default` when absent.
    pub fn number<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("`{name}` must be a number, got `{v}`")),
        }
    }

    /// A JSON flag, or `default` when absent.
    pub fn json(
        &self,
        name: &str,
        default: serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => serde_json::from_str(v).map_err(|e| format!("`{name}` is not JSON: {e}")),
        }
    }
}
