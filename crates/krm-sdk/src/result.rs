//! Entries of `ResourceList.results`, with builders.

use crate::object::{FileRef, ObjectExt, ResourceRef};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// Severity of a result. The specification's default, when absent, is `error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Error,
    /// Also `warn`, the kpt-functions TypeScript SDK's word (generate-folders'
    /// warnings), which kpt reads as it reads any severity.
    #[serde(alias = "warn")]
    Warning,
    Info,
    /// None given: some catalog functions (kyaml's `framework.Result` without
    /// a severity) report so, and kpt keeps the field out of its results and
    /// render status, and prints such a result as `[info]` (`ResultItem.String`
    /// in kpt's `api/fnresult/v1`). Sorts after the others, as kyaml's
    /// `Results.Sort` ranks an unknown severity.
    #[serde(rename = "")]
    Unset,
}

impl Severity {
    pub fn is_unset(&self) -> bool {
        *self == Severity::Unset
    }
}

/// The field a result is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_value: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposed_value: Option<Value>,
}

/// One entry of `ResourceList.results`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultItem {
    pub message: String,
    #[serde(default, skip_serializing_if = "Severity::is_unset")]
    pub severity: Severity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_ref: Option<ResourceRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<Field>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileRef>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

impl ResultItem {
    pub fn new(severity: Severity, message: impl Into<String>) -> Self {
        ResultItem {
            message: message.into(),
            severity,
            resource_ref: None,
            field: None,
            file: None,
            tags: BTreeMap::new(),
        }
    }

    pub fn error(message: impl Into<String>) -> Self {
        Self::new(Severity::Error, message)
    }

    pub fn warning(message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, message)
    }

    pub fn info(message: impl Into<String>) -> Self {
        Self::new(Severity::Info, message)
    }

    /// A result without a severity (see [`Severity::Unset`]).
    pub fn unset(message: impl Into<String>) -> Self {
        Self::new(Severity::Unset, message)
    }

    /// Fills `resourceRef` and `file` from the object and its kpt annotations.
    pub fn for_object(mut self, object: &Value) -> Self {
        self.resource_ref = Some(object.resource_ref());
        self.file = object.file_ref();
        self
    }

    pub fn field(mut self, path: impl Into<String>) -> Self {
        self.field.get_or_insert_with(Field::default).path = path.into();
        self
    }

    pub fn current_value(mut self, value: Value) -> Self {
        self.field.get_or_insert_with(Field::default).current_value = Some(value);
        self
    }

    pub fn proposed_value(mut self, value: Value) -> Self {
        self.field.get_or_insert_with(Field::default).proposed_value = Some(value);
        self
    }

    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.insert(key.into(), value.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// One line for a terminal: `error: deploy.yaml: LummoDeployment/api: spec.x: message`.
impl fmt::Display for ResultItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info | Severity::Unset => "info",
        };
        write!(f, "{severity}: ")?;
        if let Some(file) = &self.file {
            write!(f, "{}: ", file.path)?;
        }
        if let Some(r) = &self.resource_ref {
            write!(f, "{}/{}: ", r.kind, r.name)?;
        }
        if let Some(field) = self.field.as_ref().filter(|field| !field.path.is_empty()) {
            write!(f, "{}: ", field.path)?;
        }
        f.write_str(&self.message)
    }
}
