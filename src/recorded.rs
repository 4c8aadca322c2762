//! Histories recorded from real systems, read into a [`History`]: Jepsen's text log, a
//! Jepsen `history.edn`, or JSON.
//!
//! Every format is a sequence of events: a process invokes an operation (`f` is `read`,
//! `write` or `cas`) and later completes it as `ok`, `fail` or `info`. A process's
//! completion closes its open invocation; an invocation never completed counts as info.
//! Times are the events' `time` fields where every event has one, else their order.
//!
//! - `jepsen-log`: the lines Jepsen's tests log, `INFO  jepsen.util - 3 :invoke :write 4`
//!   (process, type, f, value, separated by tabs; other lines are skipped).
//! - `edn`: maps such as `{:type :ok, :f :read, :value 3, :process 0, :time 1234}`, one
//!   after another or in a vector.
//! - `json`: an array of objects (or `{"history": [...]}`) with the same fields:
//!   `{"process": 0, "type": "ok", "f": "read", "value": 3, "key": "x", "time": 1234}`.
//!
//! Values are integers or nil (`nil`, JSON `null`); a cas's value is `[from to]`. With the
//! `kv` model a value is `[key value]` (JSON may give `key` instead).

use crate::error::Error;
use crate::linearizability::{Call, History, OpId, Value};
use std::collections::HashMap;

/// A history file's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Input {
    /// Jepsen's text log.
    JepsenLog,
    /// Jepsen's history.edn.
    Edn,
    /// JSON events.
    Json,
}

/// What the operations are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Model {
    /// One register: read and write.
    Register,
    /// One register: read, write and compare-and-set.
    CasRegister,
    /// Registers by key: read, write and compare-and-set.
    Kv,
}

/// A value as the formats write it.
#[derive(Clone, Debug, PartialEq)]
enum Datum {
    Nil,
    Int(i64),
    Text(String),
    List(Vec<Datum>),
    Map(Vec<(Datum, Datum)>),
    Other(String),
}

impl Datum {
    fn get(&self, field: &str) -> Option<&Datum> {
        let Datum::Map(m) = self else { return None };
        m.iter()
            .find(|(k, _)| k.name() == Some(field))
            .map(|(_, v)| v)
    }
    /// A keyword's or string's name (`:ok` and `"ok"` are both `ok`).
    fn name(&self) -> Option<&str> {
        match self {
            Datum::Text(s) => Some(s.strip_prefix(':').unwrap_or(s)),
            _ => None,
        }
    }
}

/// One event of a history file.
struct Event {
    process: String,
    kind: String,
    f: String,
    value: Datum,
    key: Option<String>,
    time: Option<u64>,
    /// Where it is, for errors.
    at: String,
}

/// Reads a history from `text`; `name` names the file in errors.
pub fn parse(text: &str, input: Input, model: Model, name: &str) -> Result<History, Error> {
    let events = match input {
        Input::JepsenLog => jepsen_log(text, name)?,
        Input::Edn => {
            let forms = Edn::new(text, name).forms()?;
            maps(forms, name)?
        }
        Input::Json => json(text, name)?,
    };
    if events.is_empty() {
        return Err(Error::BadInput(format!(
            "{name}: no operations in the history"
        )));
    }
    build(events, model)
}

fn bad(at: &str, what: impl std::fmt::Display) -> Error {
    Error::BadInput(format!("{at}: {what}"))
}

fn jepsen_log(text: &str, name: &str) -> Result<Vec<Event>, Error> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some((_, rest)) = line.split_once(" - ") else {
            continue;
        };
        let fields: Vec<&str> = rest.split('\t').collect();
        if fields.len() < 3 || !fields[1].starts_with(':') {
            continue;
        }
        let at = format!("{name}:{}", i + 1);
        let value = match fields.get(3) {
            Some(v) => Edn::new(v, &at).form()?.unwrap_or(Datum::Nil),
            None => Datum::Nil,
        };
        out.push(Event {
            process: fields[0].trim().to_string(),
            kind: fields[1].trim_start_matches(':').to_string(),
            f: fields[2].trim_start_matches(':').to_string(),
            value,
            key: None,
            time: None,
            at,
        });
    }
    Ok(out)
}

/// Events from maps (EDN or JSON); a top-level list of maps is flattened.
fn maps(forms: Vec<(Datum, usize)>, name: &str) -> Result<Vec<Event>, Error> {
    let mut flat = Vec::new();
    for (d, line) in forms {
        match d {
            Datum::List(items) => flat.extend(items.into_iter().map(|i| (i, line))),
            d => flat.push((d, line)),
        }
    }
    let mut out = Vec::new();
    for (d, line) in flat {
        let at = format!("{name}:{line}");
        let field = |f: &str| d.get(f);
        let text = |f: &str| -> Result<String, Error> {
            match field(f) {
                Some(Datum::Int(n)) => Ok(n.to_string()),
                Some(v) => v
                    .name()
                    .map(str::to_string)
                    .ok_or_else(|| bad(&at, format!("`{f}` is not a name: {v:?}"))),
                None => Err(bad(&at, format!("an event without `{f}`"))),
            }
        };
        let time = match field("time") {
            Some(Datum::Int(t)) if *t >= 0 => Some(*t as u64),
            Some(v) => return Err(bad(&at, format!("`time` is not a whole number: {v:?}"))),
            None => None,
        };
        out.push(Event {
            process: text("process")?,
            kind: text("type")?,
            f: text("f")?,
            value: field("value").cloned().unwrap_or(Datum::Nil),
            key: field("key").and_then(|k| match k {
                Datum::Int(n) => Some(n.to_string()),
                k => k.name().map(str::to_string),
            }),
            time,
            at,
        });
    }
    Ok(out)
}

fn json(text: &str, name: &str) -> Result<Vec<Event>, Error> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| bad(name, format!("not JSON: {e}")))?;
    let list = match &v {
        serde_json::Value::Array(_) => &v,
        _ => v
            .get("history")
            .ok_or_else(|| bad(name, "expected an array of events or {\"history\": [...]}"))?,
    };
    let serde_json::Value::Array(items) = list else {
        return Err(bad(name, "`history` is not an array"));
    };
    let forms = items
        .iter()
        .enumerate()
        .map(|(i, v)| Ok((from_json(v, name, i)?, i + 1)));
    maps(
        forms.collect::<Result<_, Error>>()?,
        &format!("{name} event"),
    )
}

fn from_json(v: &serde_json::Value, name: &str, i: usize) -> Result<Datum, Error> {
    use serde_json::Value as J;
    Ok(match v {
        J::Null => Datum::Nil,
        J::Number(n) => match n.as_i64() {
            Some(n) => Datum::Int(n),
            None => {
                return Err(bad(
                    &format!("{name} event {}", i + 1),
                    format!("{n} is not a whole number"),
                ))
            }
        },
        J::String(s) => Datum::Text(s.clone()),
        J::Array(a) => Datum::List(
            a.iter()
                .map(|x| from_json(x, name, i))
                .collect::<Result<_, _>>()?,
        ),
        J::Object(o) => Datum::Map(
            o.iter()
                .map(|(k, x)| Ok((Datum::Text(k.clone()), from_json(x, name, i)?)))
                .collect::<Result<_, Error>>()?,
        ),
        J::Bool(b) => Datum::Other(b.to_string()),
    })
}

/// Pairs invocations with completions and builds the history.
fn build(events: Vec<Event>, model: Model) -> Result<History, Error> {
    let timed = events.iter().all(|e| e.time.is_some());
    let mut h = History::new();
    let mut open: HashMap<String, (OpId, String)> = HashMap::new();
    for (i, e) in events.iter().enumerate() {
        if e.process == "nemesis" || e.process == ":nemesis" {
            continue;
        }
        let time = if timed { e.time.unwrap_or(0) } else { i as u64 };
        let (key, value) = keyed(e, model)?;
        match e.kind.as_str() {
            "invoke" => {
                if let Some((_, at)) = open.get(&e.process) {
                    return Err(bad(&e.at, format!("process {} invokes again before completing its operation invoked at {at}", e.process)));
                }
                let call = call(e, model, &value)?;
                let process = e.process.parse::<u64>().unwrap_or(u64::MAX);
                let id = h.invoke(process, &key, call, time);
                open.insert(e.process.clone(), (id, e.at.clone()));
            }
            "ok" | "fail" | "info" => {
                let Some((id, _)) = open.remove(&e.process) else {
                    return Err(bad(
                        &e.at,
                        format!(
                            "process {} completes an operation it never invoked",
                            e.process
                        ),
                    ));
                };
                if h.ops[id].key != key && model == Model::Kv && e.kind == "ok" {
                    return Err(bad(
                        &e.at,
                        format!("completes key {key} but invoked key {}", h.ops[id].key),
                    ));
                }
                if time < h.ops[id].invoke {
                    return Err(bad(
                        &e.at,
                        "completes before its invocation (time goes back)",
                    ));
                }
                match e.kind.as_str() {
                    "ok" => {
                        let read = match h.ops[id].call {
                            Call::Read => scalar(&value, &e.at)?,
                            _ => None,
                        };
                        h.ok(id, read, time)
                    }
                    "fail" => h.fail(id, time),
                    _ => h.info(id),
                }
            }
            other => {
                return Err(bad(
                    &e.at,
                    format!("unknown event type `{other}`: expected invoke, ok, fail or info"),
                ))
            }
        }
    }
    Ok(h)
}

/// The key an event touches and the value it carries.
fn keyed(e: &Event, model: Model) -> Result<(String, Datum), Error> {
    match (model, &e.key, &e.value) {
        (Model::Kv, Some(k), v) => Ok((k.clone(), v.clone())),
        (Model::Kv, None, Datum::List(kv)) if kv.len() == 2 => {
            let key = match &kv[0] {
                Datum::Int(n) => n.to_string(),
                k => k.name().map(str::to_string).ok_or_else(|| {
                    bad(&e.at, format!("a key must be a number or a name: {k:?}"))
                })?,
            };
            Ok((key, kv[1].clone()))
        }
        (Model::Kv, None, v) => Err(bad(
            &e.at,
            format!("the kv model needs [key value] or a `key` field, got {v:?}"),
        )),
        (_, _, v) => Ok(("x".to_string(), v.clone())),
    }
}

fn scalar(d: &Datum, at: &str) -> Result<Value, Error> {
    match d {
        Datum::Nil => Ok(None),
        Datum::Int(n) => Ok(Some(*n)),
        other => Err(bad(
            at,
            format!("expected a whole number or nil, got {other:?}"),
        )),
    }
}

fn call(e: &Event, model: Model, value: &Datum) -> Result<Call, Error> {
    match e.f.as_str() {
        "read" => Ok(Call::Read),
        "write" => Ok(Call::Write(scalar(value, &e.at)?)),
        "cas" if model == Model::Register => Err(bad(
            &e.at,
            "a cas in a register history: use --model cas-register",
        )),
        "cas" => match value {
            Datum::List(p) if p.len() == 2 => {
                Ok(Call::Cas(scalar(&p[0], &e.at)?, scalar(&p[1], &e.at)?))
            }
            other => Err(bad(
                &e.at,
                format!("a cas's value is [from to], got {other:?}"),
            )),
        },
        other => Err(bad(
            &e.at,
            format!("unknown operation `{other}`: expected read, write or cas"),
        )),
    }
}

/// A small EDN reader: maps, vectors, lists, sets, keywords, integers, strings, nil.
struct Edn<'a> {
    src: &'a [u8],
    pos: usize,
    line: usize,
    name: &'a str,
}

impl<'a> Edn<'a> {
    fn new(text: &'a str, name: &'a str) -> Self {
        Edn {
            src: text.as_bytes(),
            pos: 0,
            line: 1,
            name,
        }
    }

    fn err(&self, what: &str) -> Error {
        bad(&format!("{}:{}", self.name, self.line), what)
    }

    /// Every top-level form, with the line it starts on.
    fn forms(mut self) -> Result<Vec<(Datum, usize)>, Error> {
        let mut out = Vec::new();
        loop {
            self.blank();
            let line = self.line;
            match self.form()? {
                Some(d) => out.push((d, line)),
                None => return Ok(out),
            }
        }
    }

    fn blank(&mut self) {
        while let Some(&c) = self.src.get(self.pos) {
            match c {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' | b',' => {}
                b';' => {
                    while self.src.get(self.pos).is_some_and(|&c| c != b'\n') {
                        self.pos += 1;
                    }
                    continue;
                }
                _ => return,
            }
            self.pos += 1;
        }
    }

    fn form(&mut self) -> Result<Option<Datum>, Error> {
        self.blank();
        let Some(&c) = self.src.get(self.pos) else {
            return Ok(None);
        };
        let close = match c {
            b'{' => b'}',
            b'[' => b']',
            b'(' => b')',
            b'#' if self.src.get(self.pos + 1) == Some(&b'{') => {
                self.pos += 1;
                b'}'
            }
            b'}' | b']' | b')' => return Err(self.err(&format!("unexpected `{}`", c as char))),
            b'"' => return self.string().map(Some),
            _ => return Ok(Some(self.atom())),
        };
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.blank();
            match self.src.get(self.pos) {
                None => return Err(self.err(&format!("`{}` never closed", c as char))),
                Some(&x) if x == close => {
                    self.pos += 1;
                    break;
                }
                _ => items.push(self.form()?.ok_or_else(|| self.err("unexpected end"))?),
            }
        }
        if c != b'{' {
            return Ok(Some(Datum::List(items)));
        }
        if items.len() % 2 != 0 {
            return Err(self.err("a map with an odd number of forms"));
        }
        let mut it = items.into_iter();
        let mut pairs = Vec::new();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            pairs.push((k, v));
        }
        Ok(Some(Datum::Map(pairs)))
    }

    fn string(&mut self) -> Result<Datum, Error> {
        self.pos += 1;
        let mut s = Vec::new();
        loop {
            match self.src.get(self.pos) {
                None => return Err(self.err("a string never closed")),
                Some(b'"') => break,
                Some(b'\\') => {
                    self.pos += 1;
                    s.extend(self.src.get(self.pos));
                }
                Some(&c) => {
                    if c == b'\n' {
                        self.line += 1;
                    }
                    s.push(c)
                }
            }
            self.pos += 1;
        }
        self.pos += 1;
        Ok(Datum::Text(String::from_utf8_lossy(&s).into_owned()))
    }

    fn atom(&mut self) -> Datum {
        let start = self.pos;
        while self
            .src
            .get(self.pos)
            .is_some_and(|&c| !b" \t\r\n,{}[]()\";".contains(&c))
        {
            self.pos += 1;
        }
        let word = String::from_utf8_lossy(&self.src[start..self.pos]).into_owned();
        if word == "nil" {
            Datum::Nil
        } else if let Ok(n) = word.parse::<i64>() {
            Datum::Int(n)
        } else if word.starts_with(':') {
            Datum::Text(word)
        } else {
            Datum::Other(word)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linearizability::Outcome;

    #[test]
    fn a_jepsen_log_pairs_processes() {
        let log = "INFO  jepsen.util - 3\t:invoke\t:write\t4\n\
                   INFO  jepsen.util - 1\t:invoke\t:read\tnil\n\
                   INFO  jepsen.util - 3\t:ok\t:write\t4\n\
                   INFO  jepsen.util - 1\t:ok\t:read\t4\n\
                   INFO  jepsen.util - 2\t:invoke\t:cas\t[4 5]\n\
                   INFO  jepsen.util - :nemesis\t:info\t:start\tnil\n\
                   INFO  jepsen.util - 2\t:fail\t:cas\t[4 5]\n";
        let h = parse(log, Input::JepsenLog, Model::CasRegister, "log").unwrap();
        assert_eq!(h.ops.len(), 3);
        assert_eq!(h.ops[1].outcome, Outcome::Ok(Some(4)));
        assert_eq!(h.ops[2].call, Call::Cas(Some(4), Some(5)));
        assert_eq!(h.ops[2].outcome, Outcome::Fail);
        assert!(parse(log, Input::JepsenLog, Model::Register, "log").is_err());
    }

    #[test]
    fn edn_and_json_read_the_same_history() {
        let edn = "{:type :invoke, :f :write, :value 1, :process 0, :time 10}\n\
                   {:type :ok, :f :write, :value 1, :process 0, :time 20}\n\
                   {:type :invoke, :f :read, :value nil, :process 1, :time 30}\n\
                   {:type :info, :f :read, :value nil, :process 1, :time 40}\n";
        let json = r#"[{"type":"invoke","f":"write","value":1,"process":0,"time":10},
                      {"type":"ok","f":"write","value":1,"process":0,"time":20},
                      {"type":"invoke","f":"read","value":null,"process":1,"time":30},
                      {"type":"info","f":"read","value":null,"process":1,"time":40}]"#;
        let a = parse(edn, Input::Edn, Model::Register, "h.edn").unwrap();
        let b = parse(json, Input::Json, Model::Register, "h.json").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.ops[0].complete, Some(20));
        assert_eq!(a.ops[1].outcome, Outcome::Info);
    }

    #[test]
    fn bad_histories_are_located() {
        let e = parse(
            "{:type :ok, :f :read, :value 1, :process 0}",
            Input::Edn,
            Model::Register,
            "h.edn",
        );
        assert!(e
            .unwrap_err()
            .to_string()
            .contains("h.edn:1: process 0 completes"));
        let e = parse("{:type :invoke", Input::Edn, Model::Register, "h.edn");
        assert!(e.unwrap_err().to_string().contains("never closed"));
        let e = parse(
            "[{\"type\":\"invoke\",\"f\":\"write\",\"value\":1.5,\"process\":0}]",
            Input::Json,
            Model::Register,
            "h.json",
        );
        assert!(e.is_err());
    }
}
