//! One source probe per instance, for fleets whose instances are themselves sources (each
//! `--primary` is read for its own walsenders' true lag and DRAINED).

use std::collections::BTreeMap;

use futures::future::BoxFuture;

use super::{Probe, ProbeError, ProbeReport, SourceProbe};

/// Dispatches each instance's reading to its own [`SourceProbe`].
#[derive(Debug)]
pub struct PerInstance {
    probes: BTreeMap<String, SourceProbe>,
    /// Every target, redacted, for the header.
    target: String,
}

impl PerInstance {
    /// A probe for each `(instance, probe)` pair.
    pub fn new(probes: Vec<(String, SourceProbe)>) -> PerInstance {
        let target = probes
            .iter()
            .map(|(_, p)| p.target().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        PerInstance {
            probes: probes.into_iter().collect(),
            target,
        }
    }
}

impl Probe for PerInstance {
    fn report<'a>(&'a mut self, instance: &'a str) -> BoxFuture<'a, ProbeReport> {
        match self.probes.get_mut(instance) {
            Some(p) => Box::pin(p.report()),
            None => {
                let target = self.target.clone();
                Box::pin(async move {
                    ProbeReport {
                        result: Err(ProbeError::Config(format!(
                            "no source is known for {instance}"
                        ))),
                        target,
                        checklist: None,
                    }
                })
            }
        }
    }

    fn target(&self) -> &str {
        &self.target
    }
}
