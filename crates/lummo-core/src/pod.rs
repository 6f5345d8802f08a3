//! Pod defaults that meet the Pod Security Standards "restricted" profile.

use k8s_openapi::api::core::v1::{
    Capabilities, EmptyDirVolumeSource, PodSecurityContext, SeccompProfile, SecurityContext,
    Volume, VolumeMount,
};
use std::collections::BTreeMap;

/// A high UID/GID that no image's root-owned files belong to.
pub const RUN_AS_USER: i64 = 10001;

/// Pod-level context: non-root, high UID, RuntimeDefault seccomp.
pub fn pod_security_context() -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(RUN_AS_USER),
        run_as_group: Some(RUN_AS_USER),
        fs_group: Some(RUN_AS_USER),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Whether a container may write to its root filesystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootFilesystem {
    ReadOnly,
    /// A spec's opt-out, for images that write outside `/tmp`.
    Writable,
}

/// Container-level context: no privilege escalation, no capabilities, and a
/// read-only root filesystem unless the spec opts out.
pub fn container_security_context(root: RootFilesystem) -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            add: None,
        }),
        privileged: Some(false),
        read_only_root_filesystem: Some(root == RootFilesystem::ReadOnly),
        run_as_non_root: Some(true),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The writable `/tmp` a read-only root filesystem needs.
pub fn tmp_volume() -> (Volume, VolumeMount) {
    let volume = Volume {
        name: "tmp".into(),
        empty_dir: Some(EmptyDirVolumeSource {
            size_limit: None,
            medium: None,
        }),
        ..Default::default()
    };
    let mount = VolumeMount {
        name: "tmp".into(),
        mount_path: "/tmp".into(),
        ..Default::default()
    };
    (volume, mount)
}

/// stakater Reloader annotations: pods roll when these ConfigMaps or Secrets change.
pub fn reloader_annotations(configs: &[String], secrets: &[String]) -> BTreeMap<String, String> {
    let mut annotations = BTreeMap::new();
    if !configs.is_empty() {
        annotations.insert(
            "configmap.reloader.stakater.com/reload".into(),
            configs.join(","),
        );
    }
    if !secrets.is_empty() {
        annotations.insert(
            "secret.reloader.stakater.com/reload".into(),
            secrets.join(","),
        );
    }
    annotations
}

/// Reloader's annotations for an Argo Rollout: those of [`reloader_annotations`]
/// and `reloader.stakater.com/rollout-strategy: restart`. By default Reloader
/// changes the Rollout's pod template (an env var or annotation), which Argo CD's
/// self-heal reverts at once, as it differs from Git; `restart` sets the
/// Rollout's `spec.restartAt` instead, a field Git does not hold, so the restart
/// survives the next sync (Reloader internal/pkg/callbacks/rolling_upgrade.go, UpdateRollout: a merge patch of `spec.restartAt`; modelled in
/// scripts/reload_model.py).
pub fn rollout_reloader_annotations(
    configs: &[String],
    secrets: &[String],
) -> BTreeMap<String, String> {
    let mut annotations = reloader_annotations(configs, secrets);
    if !annotations.is_empty() {
        annotations.insert(
            "reloader.stakater.com/rollout-strategy".into(),
            "restart".into(),
        );
    }
    annotations
}
