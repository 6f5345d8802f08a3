//! JavaScript values and js-yaml 3.14.1's `safeDump`, for the catalog functions
//! written on the kpt-functions TypeScript SDK (`kpt-functions` 0.16.1, whose
//! `io.ts` prints the whole ResourceList with `safeDump(output, {indent: 2,
//! noArrayIndent: true, skipInvalid: true, lineWidth: -1, noRefs: true})`).
//!
//! [`Js`] is what `JSON`/`js-yaml` give a function: numbers are doubles, objects
//! keep their keys in JavaScript's order (array-index keys first, ascending, then
//! the others in insertion order; [`Obj::set`]). [`dump`] follows js-yaml's
//! `dumper.js` at 3.14.1: `writeNode`, `writeBlockMapping`, `writeBlockSequence`,
//! the flow forms for empty collections, and `chooseScalarStyle` with no line
//! width (plain, single-quoted when plain would read back as another type or is
//! not plain-safe, double-quoted with escapes when a UTF-16 unit is not
//! printable, literal block for a string with a line break), the YAML 1.1
//! boolean words quoted (`noCompatMode` off), `undefined` left out.

use krm_sdk::Value;

/// A JavaScript value.
#[derive(Debug, Clone, PartialEq)]
pub enum Js {
    Undefined,
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Js>),
    Obj(Obj),
}

/// A plain JavaScript object: its own enumerable keys in JavaScript's order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Obj(Vec<(String, Js)>);

/// An array index as a property key (`"0"`, `"17"`, below 2^32 - 1): such keys
/// come first in an object's key order, in ascending order.
fn array_index(key: &str) -> Option<u32> {
    if key.is_empty() || key.len() > 10 || (key.len() > 1 && key.starts_with('0')) {
        return None;
    }
    if !key.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    key.parse::<u64>()
        .ok()
        .filter(|&n| n < u32::MAX as u64)
        .map(|n| n as u32)
}

impl Obj {
    pub fn new() -> Obj {
        Obj(Vec::new())
    }
    pub fn get(&self, key: &str) -> Option<&Js> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Js> {
        self.0.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    /// `o[key] = value`: a key it has keeps its place; a new one goes where
    /// JavaScript's property order puts it.
    pub fn set(&mut self, key: &str, value: Js) {
        if let Some(v) = self.get_mut(key) {
            *v = value;
            return;
        }
        let at = match array_index(key) {
            Some(n) => self
                .0
                .iter()
                .position(|(k, _)| array_index(k).is_none_or(|m| m > n))
                .unwrap_or(self.0.len()),
            None => self.0.len(),
        };
        self.0.insert(at, (key.to_string(), value));
    }
    /// `delete o[key]`.
    pub fn remove(&mut self, key: &str) {
        self.0.retain(|(k, _)| k != key);
    }
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Js)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// `{...a, ...b}`: b's values, a key of both in a's place.
    pub fn spread(&mut self, other: &Obj) {
        for (k, v) in &other.0 {
            self.set(k, v.clone());
        }
    }
}

impl Js {
    pub fn str(s: &str) -> Js {
        Js::Str(s.to_string())
    }
    /// The value `JSON.parse` or js-yaml gives for a document (numbers as doubles).
    pub fn from_value(value: &Value) -> Js {
        match value {
            Value::Null => Js::Null,
            Value::Bool(b) => Js::Bool(*b),
            Value::Number(n) => Js::Num(n.to_string().parse().unwrap_or(f64::NAN)),
            Value::String(s) => Js::Str(s.clone()),
            Value::Array(a) => Js::Arr(a.iter().map(Js::from_value).collect()),
            Value::Object(m) => {
                let mut o = Obj::new();
                for (k, v) in m {
                    o.set(k, Js::from_value(v));
                }
                Js::Obj(o)
            }
        }
    }
    /// JavaScript truthiness.
    pub fn truthy(&self) -> bool {
        match self {
            Js::Undefined | Js::Null => false,
            Js::Bool(b) => *b,
            Js::Num(n) => *n != 0.0 && !n.is_nan(),
            Js::Str(s) => !s.is_empty(),
            Js::Arr(_) | Js::Obj(_) => true,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Js::Str(s) => Some(s),
            _ => None,
        }
    }
    /// `String(v)` (and a template literal's `${v}`).
    pub fn to_js_string(&self) -> String {
        match self {
            Js::Undefined => "undefined".into(),
            Js::Null => "null".into(),
            Js::Bool(b) => b.to_string(),
            Js::Num(n) => number_to_string(*n),
            Js::Str(s) => s.clone(),
            Js::Arr(a) => join(a, ","),
            Js::Obj(_) => "[object Object]".into(),
        }
    }
    /// `typeof v`.
    pub fn type_of(&self) -> &'static str {
        match self {
            Js::Undefined => "undefined",
            Js::Bool(_) => "boolean",
            Js::Num(_) => "number",
            Js::Str(_) => "string",
            Js::Null | Js::Arr(_) | Js::Obj(_) => "object",
        }
    }
    /// `v[key]`: a TypeError on `undefined` and `null`, as V8 words it.
    pub fn prop(&self, key: &str) -> Result<Js, String> {
        match self {
            Js::Undefined | Js::Null => Err(format!(
                "TypeError: Cannot read properties of {} (reading '{key}')",
                self.to_js_string()
            )),
            Js::Obj(o) => Ok(o.get(key).cloned().unwrap_or(Js::Undefined)),
            Js::Arr(a) => Ok(if key == "length" {
                Js::Num(a.len() as f64)
            } else {
                array_index(key)
                    .and_then(|i| a.get(i as usize).cloned())
                    .unwrap_or(Js::Undefined)
            }),
            Js::Str(s) => {
                let units: Vec<u16> = s.encode_utf16().collect();
                Ok(if key == "length" {
                    Js::Num(units.len() as f64)
                } else {
                    array_index(key)
                        .and_then(|i| units.get(i as usize))
                        .map_or(Js::Undefined, |u| Js::Str(String::from_utf16_lossy(&[*u])))
                })
            }
            Js::Bool(_) | Js::Num(_) => Ok(Js::Undefined),
        }
    }
    /// `Object.keys(v)`.
    pub fn keys(&self) -> Vec<String> {
        match self {
            Js::Obj(o) => o.keys().map(str::to_string).collect(),
            Js::Arr(a) => (0..a.len()).map(|i| i.to_string()).collect(),
            Js::Str(s) => (0..s.encode_utf16().count())
                .map(|i| i.to_string())
                .collect(),
            _ => Vec::new(),
        }
    }
    /// `for (const x of v)`: arrays and strings (by code point) iterate; anything
    /// else is V8's TypeError `<name> is not iterable`.
    pub fn iterate(&self, name: &str) -> Result<Vec<Js>, String> {
        match self {
            Js::Arr(a) => Ok(a.clone()),
            Js::Str(s) => Ok(s.chars().map(|c| Js::Str(c.to_string())).collect()),
            _ => Err(format!("TypeError: {name} is not iterable")),
        }
    }
}

/// `array.join(sep)`: `null` and `undefined` become empty.
pub fn join(items: &[Js], sep: &str) -> String {
    items
        .iter()
        .map(|v| match v {
            Js::Undefined | Js::Null => String::new(),
            v => v.to_js_string(),
        })
        .collect::<Vec<_>>()
        .join(sep)
}

/// `Number.prototype.toString()`: the shortest digits that read back, in
/// ECMAScript's layout (plain from 1e-6 up to 1e21, else `d.ddde+N`).
pub fn number_to_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let sign = if x < 0.0 { "-" } else { "" };
    let e = format!("{:e}", x.abs());
    let (mantissa, exponent) = e.split_once('e').expect("`{:e}` has an exponent");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let k = digits.len() as i64;
    let n = exponent.parse::<i64>().expect("an integer exponent") + 1;
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let exp = n - 1;
        let exp = if exp < 0 {
            format!("-{}", -exp)
        } else {
            format!("+{exp}")
        };
        if k == 1 {
            format!("{digits}e{exp}")
        } else {
            format!("{}.{}e{exp}", &digits[..1], &digits[1..])
        }
    };
    format!("{sign}{body}")
}

// ---- js-yaml 3.14.1 dumper ----

const INDENT: usize = 2;

/// `safeDump(value, {indent: 2, noArrayIndent: true, skipInvalid: true,
/// lineWidth: -1, noRefs: true})`.
pub fn dump(value: &Js) -> String {
    match write_node(0, value, true, true, false) {
        Some(text) => text + "\n",
        None => String::new(),
    }
}

fn next_line(level: usize) -> String {
    format!("\n{}", " ".repeat(INDENT * level))
}

fn write_node(
    level: usize,
    value: &Js,
    block: bool,
    compact: bool,
    is_key: bool,
) -> Option<String> {
    Some(match value {
        Js::Undefined => return None,
        Js::Null => "null".into(),
        Js::Bool(b) => b.to_string(),
        Js::Num(n) => represent_number(*n),
        Js::Str(s) => write_scalar(s, level, is_key),
        Js::Obj(o) => {
            if block && !o.is_empty() {
                write_block_mapping(level, o, compact)
            } else {
                write_flow_mapping(level, o)
            }
        }
        Js::Arr(a) => {
            // noArrayIndent: a sequence sits at its key's level.
            let level = if level > 0 { level - 1 } else { level };
            if block && !a.is_empty() {
                write_block_sequence(level, a, compact)
            } else {
                write_flow_sequence(level, a)
            }
        }
    })
}

/// The int type (`decimal`) for whole numbers but -0, else the float type.
fn represent_number(n: f64) -> String {
    let negative_zero = n == 0.0 && n.is_sign_negative();
    if n.is_finite() && n.fract() == 0.0 && !negative_zero {
        return number_to_string(n);
    }
    if n.is_nan() {
        return ".nan".into();
    }
    if n.is_infinite() {
        return if n > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    if negative_zero {
        return "-0.0".into();
    }
    let text = number_to_string(n);
    // SCIENTIFIC_WITHOUT_DOT: `5e-100` becomes `5.e-100`.
    let digits = text.trim_start_matches(['-', '+']);
    let lead = digits.bytes().take_while(u8::is_ascii_digit).count();
    if lead > 0 && digits.as_bytes().get(lead) == Some(&b'e') {
        return text.replacen('e', ".e", 1);
    }
    text
}

fn write_block_mapping(level: usize, o: &Obj, compact: bool) -> String {
    let mut out = String::new();
    for (index, (key, value)) in o.entries().enumerate() {
        let mut pair = String::new();
        if !compact || index != 0 {
            pair.push_str(&next_line(level));
        }
        let key_text = write_scalar(key, level + 1, true);
        let explicit = key_text.chars().count() > 1024;
        if explicit {
            pair.push_str(if key_text.starts_with('\n') {
                "?"
            } else {
                "? "
            });
        }
        pair.push_str(&key_text);
        if explicit {
            pair.push_str(&next_line(level));
        }
        let Some(value_text) = write_node(level + 1, value, true, explicit, false) else {
            continue;
        };
        pair.push_str(if value_text.starts_with('\n') {
            ":"
        } else {
            ": "
        });
        pair.push_str(&value_text);
        out.push_str(&pair);
    }
    if out.is_empty() {
        "{}".into()
    } else {
        out
    }
}

fn write_flow_mapping(level: usize, o: &Obj) -> String {
    let mut out = String::new();
    for (index, (key, value)) in o.entries().enumerate() {
        let mut pair = String::new();
        if index != 0 {
            pair.push_str(", ");
        }
        let key_text = write_scalar(key, level, false);
        if key_text.chars().count() > 1024 {
            pair.push_str("? ");
        }
        pair.push_str(&key_text);
        pair.push_str(": ");
        let Some(value_text) = write_node(level, value, false, false, false) else {
            continue;
        };
        pair.push_str(&value_text);
        out.push_str(&pair);
    }
    format!("{{{out}}}")
}

fn write_block_sequence(level: usize, items: &[Js], compact: bool) -> String {
    let mut out = String::new();
    for (index, item) in items.iter().enumerate() {
        let Some(text) = write_node(level + 1, item, true, true, false) else {
            continue;
        };
        if !compact || index != 0 {
            out.push_str(&next_line(level));
        }
        out.push_str(if text.starts_with('\n') { "-" } else { "- " });
        out.push_str(&text);
    }
    if out.is_empty() {
        "[]".into()
    } else {
        out
    }
}

fn write_flow_sequence(level: usize, items: &[Js]) -> String {
    let mut out = String::new();
    for (index, item) in items.iter().enumerate() {
        if let Some(text) = write_node(level, item, false, false, false) {
            if index != 0 {
                out.push_str(", ");
            }
            out.push_str(&text);
        }
    }
    format!("[{out}]")
}

const DEPRECATED_BOOLEANS: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "n", "N", "no", "No", "NO", "off", "Off",
    "OFF",
];

fn is_whitespace(c: u16) -> bool {
    c == 0x20 || c == 0x09
}

fn is_printable(c: u16) -> bool {
    // UTF-16 units: a surrogate (astral character) is not printable.
    (0x20..=0x7E).contains(&c)
        || ((0xA1..=0xD7FF).contains(&c) && c != 0x2028 && c != 0x2029)
        || ((0xE000..=0xFFFD).contains(&c) && c != 0xFEFF)
}

fn is_ns_char(c: u16) -> bool {
    is_printable(c) && !is_whitespace(c) && c != 0xFEFF && c != 0x0D && c != 0x0A
}

fn is_plain_safe(c: u16, prev: Option<u16>) -> bool {
    is_printable(c)
        && c != 0xFEFF
        && !matches!(c, 0x2C | 0x5B | 0x5D | 0x7B | 0x7D | 0x3A)
        && (c != 0x23 || prev.is_some_and(is_ns_char))
}

fn is_plain_safe_first(c: u16) -> bool {
    is_printable(c)
        && c != 0xFEFF
        && !is_whitespace(c)
        && !"-?:,[]{}#&*!|=>'\"%@`".encode_utf16().any(|i| i == c)
}

#[derive(PartialEq)]
enum Style {
    Plain,
    Single,
    Literal,
    Double,
}

fn choose_style(s: &str, single_line_only: bool) -> Style {
    let units: Vec<u16> = s.encode_utf16().collect();
    let mut plain = is_plain_safe_first(units[0]) && !is_whitespace(units[units.len() - 1]);
    let mut has_line_break = false;
    for (i, &c) in units.iter().enumerate() {
        if !single_line_only && c == 0x0A {
            has_line_break = true;
        } else if !is_printable(c) {
            return Style::Double;
        }
        let prev = i.checked_sub(1).map(|p| units[p]);
        plain = plain && is_plain_safe(c, prev);
    }
    if !has_line_break {
        return if plain && !ambiguous(s) {
            Style::Plain
        } else {
            Style::Single
        };
    }
    Style::Literal
}

/// Whether a plain scalar would read back as another type in js-yaml's
/// DEFAULT_SAFE_SCHEMA (null, bool, int, float, timestamp, merge).
pub fn ambiguous(s: &str) -> bool {
    matches!(
        s,
        "~" | "null"
            | "Null"
            | "NULL"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "<<"
    ) || is_yaml_int(s)
        || is_yaml_float(s)
        || is_yaml_timestamp(s)
}

fn is_yaml_int(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() {
        return false;
    }
    let mut i = 0;
    if b[0] == b'-' || b[0] == b'+' {
        i = 1;
    }
    let digits_of = |rest: &[u8], ok: fn(u8) -> bool| {
        let mut has = false;
        for &c in rest {
            if c == b'_' {
                continue;
            }
            if !ok(c) {
                return false;
            }
            has = true;
        }
        has && rest.last() != Some(&b'_')
    };
    if b.get(i) == Some(&b'0') {
        if i + 1 == b.len() {
            return true;
        }
        return match b[i + 1] {
            b'b' => digits_of(&b[i + 2..], |c| c == b'0' || c == b'1'),
            b'x' => digits_of(&b[i + 2..], |c| c.is_ascii_hexdigit()),
            _ => digits_of(&b[i + 1..], |c| (b'0'..=b'7').contains(&c)),
        };
    }
    if b.get(i) == Some(&b'_') {
        return false;
    }
    let mut has = false;
    let mut last = 0u8;
    let mut j = i;
    while j < b.len() {
        let c = b[j];
        last = c;
        if c == b'_' {
            j += 1;
            continue;
        }
        if c == b':' {
            break;
        }
        if !c.is_ascii_digit() {
            return false;
        }
        has = true;
        j += 1;
    }
    if !has || last == b'_' {
        return false;
    }
    if last != b':' {
        return true;
    }
    // base 60: (:[0-5]?[0-9])+
    sexagesimal_tail(&b[j..])
}

/// `^(:[0-5]?[0-9])+$`.
fn sexagesimal_tail(mut t: &[u8]) -> bool {
    if t.is_empty() {
        return false;
    }
    while !t.is_empty() {
        if t[0] != b':' {
            return false;
        }
        t = &t[1..];
        match t {
            [a, b, rest @ ..] if (b'0'..=b'5').contains(a) && b.is_ascii_digit() => t = rest,
            [a, rest @ ..] if a.is_ascii_digit() => t = rest,
            _ => return false,
        }
    }
    true
}

fn is_yaml_float(s: &str) -> bool {
    if s.ends_with('_') {
        return false;
    }
    let b = s.as_bytes();
    let digits_us = |t: &[u8]| {
        t.iter()
            .take_while(|c| c.is_ascii_digit() || **c == b'_')
            .count()
    };
    let exponent = |t: &[u8]| -> bool {
        // (?:[eE][-+]?[0-9]+)?$
        if t.is_empty() {
            return true;
        }
        if t[0] != b'e' && t[0] != b'E' {
            return false;
        }
        let mut t = &t[1..];
        if let Some(b'-' | b'+') = t.first() {
            t = &t[1..];
        }
        !t.is_empty() && t.iter().all(u8::is_ascii_digit)
    };
    let signed = match b.first() {
        Some(b'-' | b'+') => &b[1..],
        _ => b,
    };
    // [-+]?(?:0|[1-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?
    let first = {
        let t = signed;
        let int_len = match t.first() {
            Some(b'0') => 1,
            Some(b'1'..=b'9') => 1 + digits_us(&t[1..]),
            _ => 0,
        };
        int_len > 0 && {
            let mut t = &t[int_len..];
            if t.first() == Some(&b'.') {
                t = &t[1 + digits_us(&t[1..])..];
            }
            exponent(t)
        }
    };
    // \.[0-9_]+(?:[eE][-+]?[0-9]+)?
    let second = b.first() == Some(&b'.') && {
        let n = digits_us(&b[1..]);
        n > 0 && exponent(&b[1 + n..])
    };
    // [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    let third = signed.first().is_some_and(u8::is_ascii_digit) && {
        let t = &signed[1 + digits_us(&signed[1..])..];
        match t.iter().rposition(|c| *c == b'.') {
            Some(dot) => {
                sexagesimal_tail(&t[..dot])
                    && t[dot + 1..]
                        .iter()
                        .all(|c| c.is_ascii_digit() || *c == b'_')
            }
            None => false,
        }
    };
    // [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
    let special =
        matches!(signed, b".inf" | b".Inf" | b".INF") || matches!(b, b".nan" | b".NaN" | b".NAN");
    first || second || third || special
}

fn is_yaml_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let d = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    // YYYY-MM-DD
    if b.len() == 10
        && (0..4).all(d)
        && b[4] == b'-'
        && d(5)
        && d(6)
        && b[7] == b'-'
        && d(8)
        && d(9)
    {
        return true;
    }
    // YYYY-M(M)-D(D)(T|t|[ \t]+)H(H):MM:SS(.f*)?([ \t]*(Z|[-+]H(H)(:MM)?))?
    let mut i = 0;
    let take_digits = |i: &mut usize, min: usize, max: usize| -> bool {
        let start = *i;
        while *i < b.len() && *i - start < max && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start >= min
    };
    let take = |i: &mut usize, c: u8| -> bool {
        if b.get(*i) == Some(&c) {
            *i += 1;
            true
        } else {
            false
        }
    };
    if !(take_digits(&mut i, 4, 4)
        && take(&mut i, b'-')
        && take_digits(&mut i, 1, 2)
        && take(&mut i, b'-')
        && take_digits(&mut i, 1, 2))
    {
        return false;
    }
    if matches!(b.get(i), Some(b'T' | b't')) {
        i += 1;
    } else {
        let start = i;
        while matches!(b.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    if !(take_digits(&mut i, 1, 2)
        && take(&mut i, b':')
        && take_digits(&mut i, 2, 2)
        && take(&mut i, b':')
        && take_digits(&mut i, 2, 2))
    {
        return false;
    }
    if take(&mut i, b'.') {
        while d(i) {
            i += 1;
        }
    }
    if i == b.len() {
        return true;
    }
    while matches!(b.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    if take(&mut i, b'Z') {
        return i == b.len();
    }
    if !matches!(b.get(i), Some(b'-' | b'+')) {
        return false;
    }
    i += 1;
    if !take_digits(&mut i, 1, 2) {
        return false;
    }
    if take(&mut i, b':') && !take_digits(&mut i, 2, 2) {
        return false;
    }
    i == b.len()
}

fn write_scalar(s: &str, level: usize, is_key: bool) -> String {
    if s.is_empty() {
        return "''".into();
    }
    if DEPRECATED_BOOLEANS.contains(&s) {
        return format!("'{s}'");
    }
    let indent = INDENT * level.max(1);
    match choose_style(s, is_key) {
        Style::Plain => s.to_string(),
        Style::Single => format!("'{}'", s.replace('\'', "''")),
        Style::Literal => {
            format!(
                "|{}{}",
                block_header(s),
                drop_ending_newline(&indent_string(s, indent))
            )
        }
        Style::Double => format!("\"{}\"", escape_string(s)),
    }
}

fn block_header(s: &str) -> String {
    let indicator = if s.trim_start_matches('\n').starts_with(' ') {
        INDENT.to_string()
    } else {
        String::new()
    };
    let clip = s.ends_with('\n');
    let keep = clip && (s.ends_with("\n\n") || s == "\n");
    let chomp = if keep {
        "+"
    } else if clip {
        ""
    } else {
        "-"
    };
    format!("{indicator}{chomp}\n")
}

fn drop_ending_newline(s: &str) -> &str {
    s.strip_suffix('\n').unwrap_or(s)
}

/// Every line indented, but empty ones (`\n` alone).
fn indent_string(s: &str, spaces: usize) -> String {
    let pad = " ".repeat(spaces);
    let mut out = String::new();
    for line in s.split_inclusive('\n') {
        if line != "\n" {
            out.push_str(&pad);
        }
        out.push_str(line);
    }
    out
}

fn escape_string(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars() {
        let c = ch as u32;
        if c > 0xFFFF {
            out.push_str(&format!("\\U{c:08X}"));
            continue;
        }
        let seq = match c {
            0x00 => Some("\\0"),
            0x07 => Some("\\a"),
            0x08 => Some("\\b"),
            0x09 => Some("\\t"),
            0x0A => Some("\\n"),
            0x0B => Some("\\v"),
            0x0C => Some("\\f"),
            0x0D => Some("\\r"),
            0x1B => Some("\\e"),
            0x22 => Some("\\\""),
            0x5C => Some("\\\\"),
            0x85 => Some("\\N"),
            0xA0 => Some("\\_"),
            0x2028 => Some("\\L"),
            0x2029 => Some("\\P"),
            _ => None,
        };
        match seq {
            Some(seq) => out.push_str(seq),
            None if is_printable(c as u16) => out.push(ch),
            None if c <= 0xFF => out.push_str(&format!("\\x{c:02X}")),
            None => out.push_str(&format!("\\u{c:04X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_javascript_does() {
        for (x, text) in [
            (1.0, "1"),
            (0.5, "0.5"),
            (123456789012.0, "123456789012"),
            (1e21, "1e+21"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (-2.25, "-2.25"),
            (123456789012345680000.0, "123456789012345680000"),
        ] {
            assert_eq!(number_to_string(x), text);
        }
        assert_eq!(represent_number(5e-100), "5.e-100");
        assert_eq!(represent_number(-0.0), "-0.0");
    }

    #[test]
    fn scalars_take_js_yaml_styles() {
        for (s, text) in [
            ("plain", "plain"),
            ("123", "'123'"),
            ("0x1F", "'0x1F'"),
            ("09", "09"),
            ("1_000", "'1_000'"),
            ("190:20:30", "'190:20:30'"),
            ("2021-01-01", "'2021-01-01'"),
            ("1.5", "'1.5'"),
            (".inf", "'.inf'"),
            ("yes", "'yes'"),
            ("true", "'true'"),
            ("a:b", "'a:b'"),
            ("a #b", "'a #b'"),
            ("a#b", "a#b"),
            ("it's", "it's"),
            ("'q'", "'''q'''"),
            ("-x", "'-x'"),
            ("x ", "'x '"),
            ("", "''"),
            ("é😀", "\"é\\U0001F600\""),
            ("a\tb", "\"a\\tb\""),
        ] {
            assert_eq!(write_scalar(s, 1, false), text, "{s:?}");
        }
        assert_eq!(write_scalar("a\nb\n", 1, false), "|\n  a\n  b");
        assert_eq!(write_scalar("a\nb", 2, false), "|-\n    a\n    b");
        assert_eq!(write_scalar(" a\n", 1, false), "|2\n   a");
        assert_eq!(write_scalar("a\n", 1, true), "\"a\\n\"");
    }

    #[test]
    fn collections_dump_as_js_yaml() {
        let v = Js::from_value(&krm_sdk::json!({
            "b": [{"x": 1, "y": [1, 2]}, "s", [], {}],
            "2": null, "1": {"z": [[1]]}, "u": true
        }));
        assert_eq!(
            dump(&v),
            "'1':\n  z:\n  - - 1\n'2': null\nb:\n- x: 1\n  'y':\n  - 1\n  - 2\n- s\n- []\n- {}\nu: true\n"
        );
    }
}
