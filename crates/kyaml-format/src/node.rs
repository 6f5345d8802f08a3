//! The tree go-yaml v3 decodes into (`yaml.Node`): kind, style, tag, anchor,
//! value and the three comments it keeps per node.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Scalar,
    Mapping,
    Sequence,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Style {
    Plain,
    Single,
    Double,
    Literal,
    Folded,
    /// Flow mapping or sequence.
    Flow,
    /// Block mapping or sequence.
    Block,
}

#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub kind: Kind,
    pub style: Style,
    /// An explicit tag from the source (long form), written back as it was.
    pub tag: Option<String>,
    pub anchor: String,
    /// Scalar text.
    pub value: String,
    pub head: String,
    pub line: String,
    pub foot: String,
    /// Mappings: key, value, key, value, ...
    pub children: Vec<Node>,
}

impl Node {
    pub fn scalar(value: &str, style: Style) -> Node {
        Node::new(Kind::Scalar, style, value)
    }
    pub fn new(kind: Kind, style: Style, value: &str) -> Node {
        Node {
            kind,
            style,
            tag: None,
            anchor: String::new(),
            value: value.to_string(),
            head: String::new(),
            line: String::new(),
            foot: String::new(),
            children: Vec::new(),
        }
    }

    /// Where the field `key` whose value is a mapping stands in this mapping
    /// (its key's index over 2).
    pub fn mapping_field(&self, key: &str) -> Option<usize> {
        self.children
            .chunks(2)
            .position(|p| p.len() == 2 && p[0].value == key && p[1].kind == Kind::Mapping)
    }

    /// The value of the field `key`, when a mapping.
    pub fn mapping_field_mut(&mut self, key: &str) -> Option<&mut Node> {
        let i = self.mapping_field(key)?;
        Some(&mut self.children[2 * i + 1])
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Document {
    pub head: String,
    pub foot: String,
    pub root: Node,
}
