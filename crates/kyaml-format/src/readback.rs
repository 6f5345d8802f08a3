//! kpt's `-o unwrap` and `-o DIR` (kptdev/kpt `pkg/lib/util/cmdutil/cmdutil.go`,
//! `WriteFnOutput` and `WriteToOutput`): the ResourceList that `-o stdout`
//! prints, read back by kyaml's `ByteReader` and written again — to one stream
//! by a `ByteWriter`, or to one file per path by a `LocalPackageWriter`.
//!
//! Going through the printed text is what decides where the comments land: the
//! reader gives a comment after an item to whatever go-yaml's parser attaches
//! it to inside the list (an item's foot comment printed at the item's indent
//! comes back as a foot comment of its last key, and is written indented), and
//! one encoder writes the whole stream, so a line comment go-yaml's emitter
//! still holds at the end of a document is written into the next one.

use crate::node::{Document, Kind, Node};
use crate::{emit_documents, parse, Error, SeqIndent};

/// The reader's annotations kpt's writers clear (`ByteWriter` without
/// `KeepReaderAnnotations`: both index spellings and the sequence indent;
/// `WriteToOutput`'s `ClearAnnotations` and `LocalPackageWriter`: both path
/// spellings).
const CLEARED: [&str; 5] = [
    "config.kubernetes.io/index",
    "config.kubernetes.io/path",
    "internal.config.kubernetes.io/index",
    "internal.config.kubernetes.io/path",
    "internal.config.kubernetes.io/seqindent",
];

/// `-o unwrap`: each item of the printed ResourceList as a document of one YAML
/// stream, the reader's annotations cleared, each in the sequence indent its
/// seqindent annotation names.
pub fn unwrap_resource_list(text: &str) -> Result<String, Error> {
    let (docs, indents): (Vec<Document>, Vec<SeqIndent>) = with_feet(read_list(text)?)
        .into_iter()
        .map(|(item, foot)| written(item, foot))
        .unzip();
    Ok(emit_documents(&docs, &indents))
}

/// `-o DIR`: the files kyaml's `LocalPackageWriter` writes from the printed
/// ResourceList, as (path in the package, text), in path order. Items of one
/// path are sorted by their index annotation (`kioutil.SortNodes`, stable);
/// an item without a path, or with an index that is not a number, is
/// [`Error::Unsupported`]: the caller checks those before printing.
/// Several texts are read as one list, their items in order, each text's
/// foot below its last item.
pub fn resource_list_files<T: AsRef<str>>(texts: &[T]) -> Result<Vec<(String, String)>, Error> {
    let mut files: std::collections::BTreeMap<String, Vec<(Option<String>, (Node, String))>> =
        Default::default();
    let mut read = Vec::new();
    for text in texts {
        read.extend(with_feet(read_list(text.as_ref())?));
    }
    for (item, foot) in read {
        let path = annotation(&item, "internal.config.kubernetes.io/path")
            .or_else(|| annotation(&item, "config.kubernetes.io/path"))
            .filter(|p| !p.is_empty())
            .ok_or_else(|| Error::Unsupported("an item without a path annotation".into()))?
            .to_string();
        let index = annotation(&item, "internal.config.kubernetes.io/index")
            .or_else(|| annotation(&item, "config.kubernetes.io/index"))
            .map(str::to_string);
        files.entry(path).or_default().push((index, (item, foot)));
    }
    let mut written_files = Vec::with_capacity(files.len());
    for (path, items) in files {
        let mut items = with_default_indexes(items);
        sort_by_index(&mut items)?;
        let (docs, indents): (Vec<Document>, Vec<SeqIndent>) = items
            .into_iter()
            .map(|(_, (item, foot))| written(item, foot))
            .collect::<Vec<_>>()
            .into_iter()
            .unzip();
        written_files.push((path, emit_documents(&docs, &indents)));
    }
    Ok(written_files)
}

/// Each item with its document foot: the last one's read below the list.
fn with_feet((items, below): (Vec<Node>, String)) -> Vec<(Node, String)> {
    let mut items: Vec<(Node, String)> = items
        .into_iter()
        .map(|item| (item, String::new()))
        .collect();
    if let Some((_, foot)) = items.last_mut() {
        *foot = below;
    }
    items
}

/// `kioutil.DefaultPathAndIndexAnnotation` within one file, before the writer
/// sorts: an item without an index gets the file's highest index (0 when none
/// is higher), the next such item that plus one, and so on; so the first ties
/// with the item that holds the highest and stays after it (fuzz seed 130
/// case 431). An index that is not a number counts as 0, as `strconv.Atoi`'s
/// error is ignored there.
fn with_default_indexes<T>(items: Vec<(Option<String>, T)>) -> Vec<(String, T)> {
    let mut next = items
        .iter()
        .filter_map(|(index, _)| index.as_deref()?.parse::<i64>().ok())
        .fold(0, i64::max);
    items
        .into_iter()
        .map(|(index, item)| {
            let index = index.unwrap_or_else(|| {
                next += 1;
                (next - 1).to_string()
            });
            (index, item)
        })
        .collect()
}

/// `kioutil.SortNodes` within one file: stable, an item without an index
/// first, indexes compared as numbers — parsed only when two differ, so one
/// item alone may carry any index.
fn sort_by_index<T>(items: &mut [(String, T)]) -> Result<(), Error> {
    let mut failed = None;
    items.sort_by(|(a, _), (b, _)| {
        use std::cmp::Ordering;
        if failed.is_some() || a == b {
            return Ordering::Equal;
        }
        match (a.is_empty(), b.is_empty()) {
            (true, _) => return Ordering::Less,
            (_, true) => return Ordering::Greater,
            _ => {}
        }
        match (a.parse::<i64>(), b.parse::<i64>()) {
            (Ok(a), Ok(b)) => a.cmp(&b),
            (Err(_), _) => {
                failed = Some(a.clone());
                Ordering::Equal
            }
            (_, Err(_)) => {
                failed = Some(b.clone());
                Ordering::Equal
            }
        }
    });
    match failed {
        Some(index) => Err(Error::Unsupported(format!("index annotation `{index}`"))),
        None => Ok(()),
    }
}

/// The items of a ResourceList text, as go-yaml's parser reads them (each item
/// node is taken out of the list as it is: `yaml.NewRNode(items.Content()[i])`).
fn read_items(text: &str) -> Result<Vec<Node>, Error> {
    Ok(read_list(text)?.0)
}

/// The items of a ResourceList text and the comment below the last one: the
/// foot go-yaml gives to `items` or to the document, where lummo's `-o stdout`
/// puts the document foot of the last object an in-process step held. kpt's
/// writers drop it (kpt never prints one there: its exec round trip moved it
/// onto the next document); lummo's give it back to that object's document.
fn read_list(text: &str) -> Result<(Vec<Node>, String), Error> {
    let Some(doc) = parse::parse_document(text)? else {
        return Ok(Default::default());
    };
    let root = doc.root;
    if root.kind != Kind::Mapping {
        return Err(Error::Unsupported(
            "a ResourceList that is not a mapping".into(),
        ));
    }
    let mut children = root.children.into_iter();
    while let (Some(key), Some(value)) = (children.next(), children.next()) {
        if key.value == "items" {
            let below: Vec<&str> = [&value.foot, &key.foot, &doc.foot]
                .into_iter()
                .filter(|foot| !foot.is_empty())
                .map(String::as_str)
                .collect();
            return match value.kind {
                Kind::Sequence => Ok((value.children, below.join("\n"))),
                _ if value.children.is_empty() => Ok(Default::default()),
                _ => Err(Error::Unsupported(
                    "ResourceList items that are not a list".into(),
                )),
            };
        }
    }
    Ok(Default::default())
}

/// An item as a `ByteWriter` encodes it: its seqindent read, the reader's
/// annotations cleared, then empty annotations and metadata
/// (`yaml.ClearEmptyAnnotations`); a document without head or foot of its own
/// (`encoder.Encode` of a mapping node opens an implicit document).
fn written(mut item: Node, foot: String) -> (Document, SeqIndent) {
    let indent = match annotation(&item, "internal.config.kubernetes.io/seqindent") {
        Some("wide") => SeqIndent::Wide,
        _ => SeqIndent::Compact,
    };
    crate::restore::remove_annotations(&mut item, &CLEARED);
    crate::clear_empty_annotations(&mut item);
    crate::clear_empty_metadata(&mut item);
    let doc = Document {
        head: String::new(),
        foot,
        root: item,
    };
    (doc, indent)
}

/// An object a function printed in its ResourceList as go-yaml reads it there
/// and writes it again, for a caller that has its text alone (`document`, the
/// item unindented): in the list, comment lines at the item's column below a
/// nested block are that block's foot (the key after the list is less
/// indented), where alone they would end the document (fuzz seed i110 case
/// 97: an object printed without kpt's ids, which kpt's node is as read).
/// `None` when the text does not read as one object.
pub fn item_as_read_in_a_list(document: &str) -> Option<String> {
    let doc = Document {
        head: String::new(),
        foot: String::new(),
        root: read_in_a_list(document)?,
    };
    // Written so that it reads back as the node (a comment below a `>` value
    // is not set apart by the emitter's blank line: fuzz seed 119 case 600).
    Some(crate::emit_documents_as(
        &[doc],
        &[SeqIndent::Compact],
        crate::Writing::KeepingNodes,
    ))
}

/// The node go-yaml reads for an object's text (`document`, the item
/// unindented) as an item of a ResourceList, a key following the list.
pub(crate) fn read_in_a_list(document: &str) -> Option<Node> {
    let mut list = String::from("items:\n");
    // Blank lines ending the text stay: a keep block scalar (`|+`) holds them
    // (fuzz seed 127 case 1958: `|+` over `# hash` and a blank line came back
    // `|`, a line break lost).
    let text = document.strip_suffix('\n').unwrap_or(document);
    for (i, line) in text.split('\n').enumerate() {
        match (i, line.is_empty()) {
            (0, _) => list.push_str("- "),
            (_, false) => list.push_str("  "),
            (_, true) => {}
        }
        list.push_str(line);
        list.push('\n');
    }
    list.push_str("end: 0\n");
    let mut items = read_items(&list).ok()?;
    (items.len() == 1).then(|| items.pop())?
}

/// The value of a scalar annotation of an object node.
fn annotation<'a>(root: &'a Node, key: &str) -> Option<&'a str> {
    crate::value::annotations_of(root)?
        .children
        .chunks(2)
        .find(|p| p.len() == 2 && p[0].value == key && p[1].kind == Kind::Scalar)
        .map(|p| p[1].value.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A document foot lummo holds below the last item of its `-o stdout`
    /// (an in-process step keeps an object's foot, which kpt's exec round
    /// trip would have moved to the next document): `-o unwrap` and `-o DIR`
    /// read it back as that document's foot. go-yaml gives it to `items`,
    /// which kpt's writers drop (fuzz seed i128 case 9 lost it).
    #[test]
    fn a_foot_below_the_last_item_stays_its_documents() {
        let list = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n\
            - apiVersion: v1\n  kind: A\n  metadata:\n    name: a\n    annotations:\n      \
            config.kubernetes.io/path: a.yaml\n\n# owner: x\n";
        let doc = "apiVersion: v1\nkind: A\nmetadata:\n  name: a\n";
        assert_eq!(
            unwrap_resource_list(list).unwrap(),
            format!("{doc}\n# owner: x\n")
        );
        assert_eq!(
            resource_list_files(&[list]).unwrap(),
            vec![("a.yaml".to_string(), format!("{doc}\n# owner: x\n"))]
        );
    }

    /// Two items of one path in `-o DIR`, the first with index 1, the second
    /// without: kyaml's writer gives the second the file's highest index, 1,
    /// and the stable sort keeps the first first (fuzz seed 130 case 431:
    /// lummo wrote the one without an index first).
    #[test]
    fn an_item_without_an_index_ties_with_the_highest_and_stays_after_it() {
        let item = |name: &str, index: &str| {
            format!(
                "- apiVersion: v1\n  kind: A\n  metadata:\n    name: {name}\n    annotations:\n      \
                 config.kubernetes.io/path: a.yaml\n{index}"
            )
        };
        let list = format!(
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{}{}{}",
            item("x", "      config.kubernetes.io/index: '1'\n"),
            item("y", ""),
            item("z", "      config.kubernetes.io/index: '0'\n"),
        );
        let files = resource_list_files(&[&list]).unwrap();
        let names: Vec<&str> = files[0]
            .1
            .lines()
            .filter_map(|l| l.strip_prefix("  name: "))
            .collect();
        assert_eq!(names, ["z", "x", "y"]);
    }

    /// A function printed the comment at the item's column below `data`'s
    /// block, the list's next key less indented: the function's own output
    /// under kpt's `tee` (kpt-catalog ensure-name-substring, fuzz seed i110
    /// case 97), which kpt's next ResourceList gives at the block's
    /// indentation.
    #[test]
    fn a_comment_at_the_items_column_below_a_block_is_the_blocks_foot() {
        let document =
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: null\n# c1\n# c2\n";
        assert_eq!(
            item_as_read_in_a_list(document).unwrap(),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: null\n  # c1\n  # c2\n"
        );
        let flat = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n";
        assert_eq!(item_as_read_in_a_list(flat).unwrap(), flat);
    }

    /// Below a deeper foot, a comment at the item's column ends the item's
    /// mapping, which gives it to its last key, though the key after the list
    /// follows: kpt writes it at the document's column (an object
    /// ensure-name-substring printed without ids, fuzz seed i125 case 110;
    /// lummo had given it to the list's key, and lost it).
    #[test]
    fn a_foot_at_the_items_column_below_a_deeper_foot_stays_the_items() {
        for document in [
            "kind: Widget\nspec:\n  extra: x\n  # hash\n#owner: do not edit\n",
            "kind: Widget\nspec:\n  extra: > # team\n    indented\n  # hash\n#owner: do not edit\n",
        ] {
            assert_eq!(item_as_read_in_a_list(document).unwrap(), document);
        }
        // right below another foot of its column, past the list (the real
        // kpt keeps `# c3` on `spec` and drops `# c4`)
        assert_eq!(
            item_as_read_in_a_list("kind: W\nspec:\n  extra: x\n# c3\n\n# c4\n").unwrap(),
            "kind: W\nspec:\n  extra: x\n# c3\n"
        );
    }

    #[test]
    fn a_foot_comment_printed_at_the_item_indent_is_read_back_by_its_last_key() {
        // kpt prints a document's foot comment inside the item; read back, it is
        // the last key's foot comment, and the unwrapped document keeps it indented
        // under that key (fuzz seed 1 case 54).
        let list = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n    annotations:\n      config.kubernetes.io/index: '0'\n      internal.config.kubernetes.io/path: 'a.yaml'\n  data:\n    key0: true\n    # note\n";
        assert_eq!(
            unwrap_resource_list(list).unwrap(),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  key0: true\n  # note\n"
        );
        let files = resource_list_files(&[list]).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].0, "a.yaml");
        assert_eq!(files[0].1, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  key0: true\n  # note\n");
    }

    #[test]
    fn files_are_sorted_by_index_and_keep_each_seqindent() {
        let list = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- kind: B\n  metadata:\n    annotations:\n      internal.config.kubernetes.io/path: 'f.yaml'\n      internal.config.kubernetes.io/index: '1'\n      internal.config.kubernetes.io/seqindent: 'wide'\n  list:\n  - x\n- kind: A\n  metadata:\n    annotations:\n      internal.config.kubernetes.io/path: 'f.yaml'\n      internal.config.kubernetes.io/index: '0'\n";
        let files = resource_list_files(&[list]).unwrap();
        assert_eq!(
            files,
            vec![(
                "f.yaml".to_string(),
                "kind: A\n---\nkind: B\nlist:\n  - x\n".to_string()
            )]
        );
    }

    #[test]
    fn a_comment_after_the_dash_of_a_later_item_heads_that_item() {
        // How kpt prints an item whose document began with `---` and comments
        // (saved fuzz case explicit-document-start-comments-go-to-first-key): the
        // comment after `- ` belongs to that item even after a blank line, not as
        // a foot to the item before it.
        let list = "items:\n- p:\n    m:\n    - e: 1\n- # a\n\n  # b\n  k: 1\n";
        assert_eq!(
            unwrap_resource_list(list).unwrap(),
            "p:\n  m:\n  - e: 1\n---\n# a\n\n# b\nk: 1\n"
        );
    }

    /// A mapping's foot held below the next `-` (go-yaml's emitter), then a
    /// blank line: go-yaml's scanner makes the lines above the blank a foot of
    /// the `-`, which its parser hands to the next scalar event, the item's
    /// first key (a block mapping's start takes no comments), so kpt writes
    /// them below that key's value, a blank line after them (fuzz seed 1 case
    /// 291, `-o DIR`).
    #[test]
    fn a_foot_below_a_dash_alone_is_the_first_keys_foot() {
        let list = "items:\n- a: 1\n-\n# f1\n  # f2\n\n  # h\n  k: 1\n  l: 2\n";
        assert_eq!(
            unwrap_resource_list(list).unwrap(),
            "a: 1\n---\n# h\nk: 1\n# f1\n# f2\n\nl: 2\n"
        );
    }

    #[test]
    fn an_item_without_a_path_is_not_written_to_a_folder() {
        let list = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- kind: A\n";
        assert!(matches!(
            resource_list_files(&[list]),
            Err(Error::Unsupported(_))
        ));
        assert_eq!(unwrap_resource_list(list).unwrap(), "kind: A\n");
    }
}
