//! Backstage's own JSON Schemas (committed copies, see `backstage-schemas/README.md`),
//! registered under their `$id`s as Backstage's catalog does (Draft 7).

use serde_json::Value;
use std::path::{Path, PathBuf};

pub const SCHEMA_FILES: [&str; 9] = [
    "packages/catalog-model/src/schema/Entity.schema.json",
    "packages/catalog-model/src/schema/EntityMeta.schema.json",
    "packages/catalog-model/src/schema/shared/common.schema.json",
    "packages/catalog-model/src/schema/kinds/Component.v1alpha1.schema.json",
    "packages/catalog-model/src/schema/kinds/Resource.v1alpha1.schema.json",
    "packages/catalog-model/src/schema/kinds/API.v1alpha1.schema.json",
    "packages/catalog-model/src/schema/kinds/System.v1alpha1.schema.json",
    "packages/catalog-model/src/schema/kinds/Location.v1alpha1.schema.json",
    "plugins/scaffolder-common/src/Template.v1beta3.schema.json",
];

/// From any crate two levels below the root (lummo-cli's tests include this file).
pub fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../functions/lummo-backstage/tests/backstage-schemas")
}

/// The `$id`s are relative (`Entity`, `common#relation`); they resolve against the
/// validator's default base URI, so every schema is registered under that base.
const BASE: &str = "json-schema:///";

pub struct Schemas {
    documents: Vec<Value>,
    registry: jsonschema::Registry<'static>,
}

impl Schemas {
    pub fn load() -> Schemas {
        let documents = SCHEMA_FILES
            .iter()
            .map(|file| {
                let text =
                    std::fs::read_to_string(schema_dir().join(file)).expect("committed schema");
                serde_json::from_str(&text).expect("schema is JSON")
            })
            .collect::<Vec<Value>>();
        let mut registry = jsonschema::Registry::new();
        for document in &documents {
            let uri = format!("{BASE}{}", document["$id"].as_str().expect("$id"));
            registry = registry
                .add(uri, document.clone())
                .expect("schema registers");
        }
        let registry = registry.prepare().expect("registry");
        Schemas {
            documents,
            registry,
        }
    }

    fn schema(&self, id: &str) -> &Value {
        self.documents
            .iter()
            .find(|d| d["$id"] == id)
            .unwrap_or_else(|| panic!("no schema with $id {id}"))
    }

    /// The schema of a kind: `ComponentV1alpha1`, `ApiV1alpha1`, `TemplateV1beta3`.
    pub fn id_of(object: &Value) -> Option<&'static str> {
        let api = object["apiVersion"].as_str()?;
        Some(match (api, object["kind"].as_str()?) {
            ("backstage.io/v1alpha1", "Component") => "ComponentV1alpha1",
            ("backstage.io/v1alpha1", "Resource") => "ResourceV1alpha1",
            ("backstage.io/v1alpha1", "API") => "ApiV1alpha1",
            ("backstage.io/v1alpha1", "System") => "SystemV1alpha1",
            ("backstage.io/v1alpha1", "Location") => "LocationV1alpha1",
            ("scaffolder.backstage.io/v1beta3", "Template") => "TemplateV1beta3",
            _ => return None,
        })
    }

    /// Every problem of `object` against its kind's schema; a kind without a schema
    /// is a problem too.
    pub fn problems(&self, object: &Value) -> Vec<String> {
        let Some(id) = Self::id_of(object) else {
            return vec![format!(
                "no Backstage schema for {} {}",
                object["apiVersion"], object["kind"]
            )];
        };
        // The validator wants plain JSON numbers; our values keep their source text.
        let object: Value = serde_json::from_str(&object.to_string()).expect("JSON");
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .with_base_uri(BASE)
            .with_registry(&self.registry)
            .build(self.schema(id))
            .unwrap_or_else(|e| panic!("Backstage's schema {id} compiles: {e}"));
        validator
            .iter_errors(&object)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect()
    }
}
