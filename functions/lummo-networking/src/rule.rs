//! Traefik v3 rule expressions: a parser into an AST, a printer back to canonical v3
//! text, and argument validation.
//!
//! Grammar (precedence `!` > `&&` > `||`):
//! ```text
//! or      = and ( "||" and )*
//! and     = unary ( "&&" unary )*
//! unary   = "!" unary | "(" or ")" | matcher
//! matcher = NAME "(" string ( "," string )* ")"
//! string  = `...` | "..."
//! ```
//! Traefik v2's multi-argument forms (``Host(`a`, `b`)``) are accepted and rewritten
//! as v3 disjunctions, with a note saying so.

use std::fmt;

/// A matcher of Traefik v3's HTTP router rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Matcher {
    Host,
    HostRegexp,
    Path,
    PathPrefix,
    PathRegexp,
    Method,
    Header,
    HeaderRegexp,
    Query,
    QueryRegexp,
    ClientIP,
}

impl Matcher {
    const ALL: [Matcher; 11] = [
        Matcher::Host,
        Matcher::HostRegexp,
        Matcher::Path,
        Matcher::PathPrefix,
        Matcher::PathRegexp,
        Matcher::Method,
        Matcher::Header,
        Matcher::HeaderRegexp,
        Matcher::Query,
        Matcher::QueryRegexp,
        Matcher::ClientIP,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Matcher::Host => "Host",
            Matcher::HostRegexp => "HostRegexp",
            Matcher::Path => "Path",
            Matcher::PathPrefix => "PathPrefix",
            Matcher::PathRegexp => "PathRegexp",
            Matcher::Method => "Method",
            Matcher::Header => "Header",
            Matcher::HeaderRegexp => "HeaderRegexp",
            Matcher::Query => "Query",
            Matcher::QueryRegexp => "QueryRegexp",
            Matcher::ClientIP => "ClientIP",
        }
    }

    /// Arguments one v3 matcher takes: a key and a value, or one value.
    pub fn arity(self) -> usize {
        match self {
            Matcher::Header | Matcher::HeaderRegexp | Matcher::Query | Matcher::QueryRegexp => 2,
            _ => 1,
        }
    }

    fn from_name(name: &str) -> Option<Matcher> {
        Matcher::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// A parsed rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    Match(Matcher, Vec<String>),
    Not(Box<Rule>),
    And(Box<Rule>, Box<Rule>),
    Or(Box<Rule>, Box<Rule>),
}

/// A syntax or argument error at a 1-based column of the rule text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    pub message: String,
    pub column: usize,
    /// Said after the position, e.g. ", did you mean `PathPrefix`?".
    pub hint: String,
}

impl RuleError {
    /// The message with the rule and a caret under the column:
    /// ```text
    /// unterminated string at column 6
    ///   Path(`/hello
    ///        ^
    /// ```
    pub fn excerpt(&self, rule: &str) -> String {
        let caret = " ".repeat(self.column.saturating_sub(1));
        format!(
            "{} at column {}{}\n  {rule}\n  {caret}^",
            self.message, self.column, self.hint
        )
    }
}

/// A parsed rule and the rewrites worth telling the user about.
#[derive(Debug)]
pub struct Parsed {
    pub rule: Rule,
    pub notes: Vec<String>,
}

/// Parses and validates a rule.
pub fn parse(text: &str) -> Result<Parsed, RuleError> {
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens,
        position: 0,
        notes: Vec::new(),
        end: text.chars().count() + 1,
    };
    let rule = parser.or()?;
    if let Some(token) = parser.tokens.get(parser.position) {
        return Err(RuleError {
            message: format!("unexpected {}", token.kind.describe()),
            column: token.column,
            hint: String::new(),
        });
    }
    Ok(Parsed {
        rule,
        notes: parser.notes,
    })
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Name(String),
    Text(String),
    Open,
    Close,
    Comma,
    And,
    Or,
    Not,
}

impl Kind {
    fn describe(&self) -> String {
        match self {
            Kind::Name(n) => format!("`{n}`"),
            Kind::Text(_) => "string".into(),
            Kind::Open => "`(`".into(),
            Kind::Close => "`)`".into(),
            Kind::Comma => "`,`".into(),
            Kind::And => "`&&`".into(),
            Kind::Or => "`||`".into(),
            Kind::Not => "`!`".into(),
        }
    }
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    column: usize,
}

fn tokenize(text: &str) -> Result<Vec<Token>, RuleError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let column = i + 1;
        let c = chars[i];
        let kind = match c {
            ' ' | '\t' | '\n' | '\r' => {
                i += 1;
                continue;
            }
            '(' => Kind::Open,
            ')' => Kind::Close,
            ',' => Kind::Comma,
            '!' => Kind::Not,
            '&' | '|' => {
                if chars.get(i + 1) != Some(&c) {
                    return Err(RuleError {
                        message: format!("expected `{c}{c}`"),
                        column,
                        hint: String::new(),
                    });
                }
                i += 1;
                if c == '&' {
                    Kind::And
                } else {
                    Kind::Or
                }
            }
            '`' | '"' => {
                let mut value = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => {
                            return Err(RuleError {
                                message: "unterminated string".into(),
                                column,
                                hint: String::new(),
                            })
                        }
                        Some(&q) if q == c => break,
                        Some('\\') if c == '"' => {
                            let escaped = chars.get(j + 1).ok_or(RuleError {
                                message: "unterminated string".into(),
                                column,
                                hint: String::new(),
                            })?;
                            value.push(*escaped);
                            j += 2;
                        }
                        Some(&ch) => {
                            value.push(ch);
                            j += 1;
                        }
                    }
                }
                i = j;
                Kind::Text(value)
            }
            c if c.is_ascii_alphabetic() => {
                let start = i;
                while chars.get(i + 1).is_some_and(|c| c.is_ascii_alphanumeric()) {
                    i += 1;
                }
                Kind::Name(chars[start..=i].iter().collect())
            }
            other => {
                return Err(RuleError {
                    message: format!("unexpected character `{other}`"),
                    column,
                    hint: String::new(),
                })
            }
        };
        tokens.push(Token { kind, column });
        i += 1;
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    position: usize,
    notes: Vec<String>,
    /// Column just past the end, for "unexpected end" errors.
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Kind> {
        self.tokens.get(self.position).map(|t| &t.kind)
    }

    fn column(&self) -> usize {
        self.tokens
            .get(self.position)
            .map_or(self.end, |t| t.column)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.position).cloned();
        self.position += 1;
        token
    }

    fn expect(&mut self, kind: Kind, what: &str) -> Result<(), RuleError> {
        let column = self.column();
        match self.next() {
            Some(token) if token.kind == kind => Ok(()),
            Some(token) => Err(RuleError {
                message: format!("expected {what}, found {}", token.kind.describe()),
                column,
                hint: String::new(),
            }),
            None => Err(RuleError {
                message: format!("expected {what}, found the end of the rule"),
                column,
                hint: String::new(),
            }),
        }
    }

    fn or(&mut self) -> Result<Rule, RuleError> {
        let mut rule = self.and()?;
        while self.peek() == Some(&Kind::Or) {
            self.position += 1;
            rule = Rule::Or(Box::new(rule), Box::new(self.and()?));
        }
        Ok(rule)
    }

    fn and(&mut self) -> Result<Rule, RuleError> {
        let mut rule = self.unary()?;
        while self.peek() == Some(&Kind::And) {
            self.position += 1;
            rule = Rule::And(Box::new(rule), Box::new(self.unary()?));
        }
        Ok(rule)
    }

    fn unary(&mut self) -> Result<Rule, RuleError> {
        let column = self.column();
        match self.next().map(|t| t.kind) {
            Some(Kind::Not) => Ok(Rule::Not(Box::new(self.unary()?))),
            Some(Kind::Open) => {
                let rule = self.or()?;
                self.expect(Kind::Close, "`)`")?;
                Ok(rule)
            }
            Some(Kind::Name(name)) => self.matcher(&name, column),
            Some(other) => Err(RuleError {
                message: format!("expected a matcher, found {}", other.describe()),
                column,
                hint: String::new(),
            }),
            None => Err(RuleError {
                message: "expected a matcher, found the end of the rule".into(),
                column,
                hint: String::new(),
            }),
        }
    }

    fn matcher(&mut self, name: &str, column: usize) -> Result<Rule, RuleError> {
        let matcher = Matcher::from_name(name).ok_or_else(|| {
            let names = Matcher::ALL.map(Matcher::name);
            let hint = krm_sdk::decode::suggest(name, names)
                .map(|s| format!(", did you mean `{s}`?"))
                .unwrap_or_default();
            RuleError {
                message: format!("unknown matcher `{name}`"),
                column,
                hint,
            }
        })?;
        self.expect(Kind::Open, "`(` after the matcher name")?;
        let mut args = Vec::new();
        let mut columns = Vec::new();
        loop {
            let arg_column = self.column();
            match self.next().map(|t| t.kind) {
                Some(Kind::Text(text)) => {
                    args.push(text);
                    columns.push(arg_column);
                }
                Some(other) => {
                    return Err(RuleError {
                        message: format!(
                            "expected a string in backticks, found {}",
                            other.describe()
                        ),
                        column: arg_column,
                        hint: String::new(),
                    })
                }
                None => {
                    return Err(RuleError {
                        message: "expected a string, found the end of the rule".into(),
                        column: arg_column,
                        hint: String::new(),
                    })
                }
            }
            let separator_column = self.column();
            match self.next().map(|t| t.kind) {
                Some(Kind::Comma) => continue,
                Some(Kind::Close) => break,
                Some(other) => {
                    return Err(RuleError {
                        message: format!("expected `,` or `)`, found {}", other.describe()),
                        column: separator_column,
                        hint: String::new(),
                    })
                }
                None => {
                    return Err(RuleError {
                        message: "expected `)`, found the end of the rule".into(),
                        column: separator_column,
                        hint: String::new(),
                    })
                }
            }
        }
        for (index, (arg, arg_column)) in args.iter().zip(&columns).enumerate() {
            validate(matcher, index, arg).map_err(|message| RuleError {
                message,
                column: *arg_column,
                hint: String::new(),
            })?;
        }
        self.v3(matcher, args, column)
    }

    /// Rewrites v2 multi-argument matchers into v3 disjunctions.
    fn v3(
        &mut self,
        matcher: Matcher,
        args: Vec<String>,
        column: usize,
    ) -> Result<Rule, RuleError> {
        let arity = matcher.arity();
        if args.len() == arity {
            return Ok(Rule::Match(matcher, args));
        }
        if arity == 2 {
            return Err(RuleError {
                message: format!(
                    "{} takes two arguments (a name and a value)",
                    matcher.name()
                ),
                column,
                hint: String::new(),
            });
        }
        let rewritten = args
            .into_iter()
            .map(|a| Rule::Match(matcher, vec![a]))
            .reduce(|left, right| Rule::Or(Box::new(left), Box::new(right)))
            .expect("a matcher has at least one argument");
        self.notes.push(format!(
            "{} with several arguments is Traefik v2 syntax; v3 writes `{rewritten}`",
            matcher.name()
        ));
        Ok(rewritten)
    }
}

/// Checks argument `index` of a matcher.
fn validate(matcher: Matcher, index: usize, arg: &str) -> Result<(), String> {
    match matcher {
        Matcher::Path | Matcher::PathPrefix if !arg.starts_with('/') => {
            Err(format!("{} `{arg}` must start with `/`", matcher.name()))
        }
        // The one hostname rule, shared with `spec.domains` (lummo-core names.rs).
        Matcher::Host => lummo_core::names::precise_hostname(arg),
        Matcher::HostRegexp | Matcher::PathRegexp => regex(arg),
        Matcher::HeaderRegexp | Matcher::QueryRegexp if index == 1 => regex(arg),
        Matcher::Method => {
            const METHODS: [&str; 9] = [
                "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
            ];
            if METHODS.contains(&arg) {
                Ok(())
            } else {
                Err(format!("`{arg}` is not an HTTP method (GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ...)"))
            }
        }
        Matcher::ClientIP => cidr(arg),
        _ => Ok(()),
    }
}

fn regex(pattern: &str) -> Result<(), String> {
    regex_lite::Regex::new(pattern)
        .map(|_| ())
        .map_err(|e| format!("invalid regular expression `{pattern}`: {e}"))
}

/// An IP address or a CIDR range.
pub fn cidr(text: &str) -> Result<(), String> {
    let (address, bits) = text.split_once('/').unwrap_or((text, ""));
    let invalid = || format!("`{text}` is not an IP address or CIDR range (e.g. `10.0.0.0/8`)");
    let address: std::net::IpAddr = address.parse().map_err(|_| invalid())?;
    if !bits.is_empty() {
        let bits: u8 = bits.parse().map_err(|_| invalid())?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        if bits > max {
            return Err(invalid());
        }
    }
    Ok(())
}

/// Canonical v3 text with the fewest parentheses.
impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_rule(f, self, 0)
    }
}

/// `level`: 0 top or inside `||`, 1 inside `&&`, 2 under `!`.
fn write_rule(f: &mut fmt::Formatter<'_>, rule: &Rule, level: u8) -> fmt::Result {
    match rule {
        Rule::Match(matcher, args) => {
            write!(f, "{}(", matcher.name())?;
            for (i, arg) in args.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                if arg.contains('`') {
                    write!(f, "{arg:?}")?;
                } else {
                    write!(f, "`{arg}`")?;
                }
            }
            f.write_str(")")
        }
        Rule::Not(inner) => {
            f.write_str("!")?;
            write_rule(f, inner, 2)
        }
        Rule::And(left, right) => {
            let parens = level >= 2;
            if parens {
                f.write_str("(")?;
            }
            write_rule(f, left, 1)?;
            f.write_str(" && ")?;
            write_rule(f, right, 1)?;
            if parens {
                f.write_str(")")?;
            }
            Ok(())
        }
        Rule::Or(left, right) => {
            let parens = level >= 1;
            if parens {
                f.write_str("(")?;
            }
            write_rule(f, left, 0)?;
            f.write_str(" || ")?;
            write_rule(f, right, 0)?;
            if parens {
                f.write_str(")")?;
            }
            Ok(())
        }
    }
}

impl Rule {
    /// Every matcher in the rule, left to right.
    pub fn matchers(&self) -> Vec<(Matcher, &[String])> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<(Matcher, &'a [String])>) {
        match self {
            Rule::Match(m, args) => out.push((*m, args)),
            Rule::Not(inner) => inner.collect(out),
            Rule::And(l, r) | Rule::Or(l, r) => {
                l.collect(out);
                r.collect(out);
            }
        }
    }

    /// The rule as a disjunction of conjunctions of matchers, or `None` when a `!`
    /// is present (it does not distribute into positive matches).
    pub fn disjunctive_normal_form(&self) -> Option<Vec<Vec<(Matcher, Vec<String>)>>> {
        match self {
            Rule::Match(m, args) => Some(vec![vec![(*m, args.clone())]]),
            Rule::Not(_) => None,
            Rule::Or(l, r) => {
                let mut left = l.disjunctive_normal_form()?;
                left.extend(r.disjunctive_normal_form()?);
                Some(left)
            }
            Rule::And(l, r) => {
                let left = l.disjunctive_normal_form()?;
                let right = r.disjunctive_normal_form()?;
                let mut out = Vec::new();
                for a in &left {
                    for b in &right {
                        out.push(a.iter().chain(b).cloned().collect());
                    }
                }
                Some(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arbitrary_rule() -> impl Strategy<Value = Rule> {
        let leaf = prop_oneof![
            "/[a-z0-9/_.-]{0,12}".prop_map(|p| Rule::Match(Matcher::Path, vec![p])),
            "/[a-z0-9/]{0,8}".prop_map(|p| Rule::Match(Matcher::PathPrefix, vec![p])),
            prop_oneof![Just("GET"), Just("POST")]
                .prop_map(|m| Rule::Match(Matcher::Method, vec![m.to_string()])),
            ("[A-Za-z-]{1,8}", "[ -~]{0,8}")
                .prop_map(|(k, v)| Rule::Match(Matcher::Header, vec![k, v])),
            "[a-z]{1,8}(\\.[a-z]{1,8}){0,2}".prop_map(|h| Rule::Match(Matcher::Host, vec![h])),
        ];
        leaf.prop_recursive(4, 24, 2, |inner| {
            prop_oneof![
                inner.clone().prop_map(|r| Rule::Not(Box::new(r))),
                (inner.clone(), inner.clone())
                    .prop_map(|(l, r)| Rule::And(Box::new(l), Box::new(r))),
                (inner.clone(), inner).prop_map(|(l, r)| Rule::Or(Box::new(l), Box::new(r))),
            ]
        })
    }

    /// `a && (b && c)` prints as `a && b && c` and reads back left-associated.
    fn reassociate(rule: Rule) -> Rule {
        fn flatten(rule: Rule, and: bool, out: &mut Vec<Rule>) {
            match rule {
                Rule::And(l, r) if and => {
                    flatten(*l, and, out);
                    flatten(*r, and, out);
                }
                Rule::Or(l, r) if !and => {
                    flatten(*l, and, out);
                    flatten(*r, and, out);
                }
                other => out.push(reassociate(other)),
            }
        }
        let rebuild = |parts: Vec<Rule>, and: bool| {
            parts
                .into_iter()
                .reduce(|l, r| {
                    if and {
                        Rule::And(Box::new(l), Box::new(r))
                    } else {
                        Rule::Or(Box::new(l), Box::new(r))
                    }
                })
                .expect("at least one part")
        };
        match rule {
            Rule::And(..) | Rule::Or(..) => {
                let and = matches!(rule, Rule::And(..));
                let mut parts = Vec::new();
                flatten(rule, and, &mut parts);
                rebuild(parts, and)
            }
            Rule::Not(inner) => Rule::Not(Box::new(reassociate(*inner))),
            leaf => leaf,
        }
    }

    proptest! {
        #[test]
        fn printing_then_parsing_gives_the_same_rule(rule in arbitrary_rule()) {
            let text = rule.to_string();
            let parsed = parse(&text).map_err(|e| TestCaseError::fail(e.excerpt(&text)))?;
            prop_assert_eq!(parsed.rule, reassociate(rule));
        }

        #[test]
        fn never_panics(text in "[ -~]{0,40}") {
            let _ = parse(&text);
        }
    }

    fn canonical(text: &str) -> String {
        parse(text).unwrap().rule.to_string()
    }

    #[test]
    fn parses_and_prints_canonically() {
        for (input, output) in [
            ("Path(`/hello`)", "Path(`/hello`)"),
            ("Path(\"/hello\")", "Path(`/hello`)"),
            (
                "PathPrefix(`/a`) && Method(`GET`)",
                "PathPrefix(`/a`) && Method(`GET`)",
            ),
            (
                "(Path(`/a`) || Path(`/b`)) && !Method(`POST`)",
                "(Path(`/a`) || Path(`/b`)) && !Method(`POST`)",
            ),
            (
                "Path(`/a`) || Path(`/b`) && Header(`X-Env`, `dev`)",
                "Path(`/a`) || Path(`/b`) && Header(`X-Env`, `dev`)",
            ),
            ("!(Path(`/a`) && Path(`/b`))", "!(Path(`/a`) && Path(`/b`))"),
            (
                "ClientIP(`10.0.0.0/8`) && QueryRegexp(`id`, `^[0-9]+$`)",
                "ClientIP(`10.0.0.0/8`) && QueryRegexp(`id`, `^[0-9]+$`)",
            ),
            ("Path(\"/has`tick\")", "Path(\"/has`tick\")"),
        ] {
            assert_eq!(canonical(input), output, "{input}");
            assert_eq!(canonical(output), output, "printing then parsing is stable");
        }
    }

    #[test]
    fn rewrites_v2_multi_argument_matchers() {
        let parsed = parse("Host(`a.com`, `b.com`)").unwrap();
        assert_eq!(parsed.rule.to_string(), "Host(`a.com`) || Host(`b.com`)");
        assert_eq!(parsed.notes, ["Host with several arguments is Traefik v2 syntax; v3 writes `Host(`a.com`) || Host(`b.com`)`"]);
    }

    #[test]
    fn reports_columns_with_a_caret() {
        let error = parse("Path(`/hello").unwrap_err();
        assert_eq!(
            error.excerpt("Path(`/hello"),
            "unterminated string at column 6\n  Path(`/hello\n       ^"
        );
        for (input, message, column) in [
            (
                "Path(`/a`) &&",
                "expected a matcher, found the end of the rule",
                14,
            ),
            ("Pth(`/a`)", "unknown matcher `Pth`", 1),
            ("Path(`a`)", "Path `a` must start with `/`", 6),
            ("Path(`/a`) & Path(`/b`)", "expected `&&`", 12),
            ("PathRegexp(`[`)", "invalid regular expression `[`: ", 12),
            (
                "ClientIP(`10.0.0.0/33`)",
                "`10.0.0.0/33` is not an IP address or CIDR range (e.g. `10.0.0.0/8`)",
                10,
            ),
            (
                "Method(`FETCH`)",
                "`FETCH` is not an HTTP method (GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ...)",
                8,
            ),
            ("Path(`/a`) Path(`/b`)", "unexpected `Path`", 12),
            (
                "Header(`X`)",
                "Header takes two arguments (a name and a value)",
                1,
            ),
            ("(Path(`/a`)", "expected `)`, found the end of the rule", 12),
        ] {
            let error = parse(input).unwrap_err();
            assert!(
                error.message.starts_with(message),
                "{input}: {}",
                error.message
            );
            assert_eq!(error.column, column, "{input}");
        }
    }

    #[test]
    fn normalises_into_matches() {
        let rule = parse("(Path(`/a`) || PathPrefix(`/b`)) && Method(`GET`)")
            .unwrap()
            .rule;
        let dnf = rule.disjunctive_normal_form().unwrap();
        assert_eq!(dnf.len(), 2);
        assert_eq!(dnf[1][0], (Matcher::PathPrefix, vec!["/b".to_string()]));
        assert!(parse("!Path(`/a`)")
            .unwrap()
            .rule
            .disjunctive_normal_form()
            .is_none());
    }
}
