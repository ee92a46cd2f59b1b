//! Objects exai owns that may have left the spec, found while reading what it declares.
//!
//! There is no state file, so "what exai created before" is read from Azure: every object exai
//! creates carries its ownership mark ([`crate::Mark`]: the `exai-owner` tag on ARM resources;
//! `exai-owner:<spec>:<address>` in a Graph object's `tags`, a federated credential's or a role
//! assignment's `description`, a client secret's `displayName`). Reads exai makes anyway show most of them for free — the
//! application's list of federated credentials, its password credentials, a principal's role
//! assignments at a scope — and one list per resource group (`tagName eq 'exai-owner'`) shows
//! the ARM resources. An owned object that is not the live object of any declared resource has
//! left the spec (or been superseded: a role assignment whose role changed), and the planner
//! plans its deletion; `apply` carries it out only with `--allow-delete`.
//!
//! What is *not* found this way, on purpose: resource groups and applications removed from the
//! spec. Finding them means scanning a whole subscription or tenant for the mark, where another
//! project's objects may carry the same address; deleting one of those would be a disaster, so
//! exai never guesses. An object found here is only ever deleted by the spec its mark names
//! (see [`crate::Mark::belongs_to`]), and never while its mark says it is protected.

use crate::kinds::ResourceGroup;
use crate::{ApiRequest, KindName, LiveResource, Location, Mark, Method, OWNER_TAG, Orphans, OwnedFields, ResourceId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A live object exai owns, found while reading the declared resources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnedObject {
    /// Its ownership mark: the spec and address that own it, and whether it is protected.
    pub mark: Mark,
    /// The Azure (or Graph) type.
    pub resource_type: String,
    /// The object as read.
    pub live: LiveResource,
    /// What a reviewer needs to recognise it, as owned fields (`tags.exai-owner` among them).
    pub fields: OwnedFields,
    /// The requests that delete it.
    pub delete: Vec<ApiRequest>,
    /// What deleting it takes with it, if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

impl OwnedObject {
    /// Returns the object of kind `kind` found as `live`: its type and the request that deletes
    /// it both come from the kind's row of the table, so they cannot name two kinds.
    pub fn found(kind: KindName, mark: Mark, live: LiveResource, fields: OwnedFields, warning: Option<String>) -> Self {
        let info = kind.info();
        Self {
            mark,
            resource_type: info.azure_type.to_owned(),
            delete: vec![info.deletion.request(&live.id)],
            live,
            fields,
            warning,
        }
    }
}

/// Returns the read that lists the ARM resources carrying exai's ownership tag in resource group
/// `group` of `subscription` (`Resources_ListByResourceGroup` with `$filter=tagName eq
/// 'exai-owner'`, 2025-04-01; tag filters cannot be combined with others).
pub fn ownership_scan(subscription: &str, group: &str) -> ApiRequest {
    ApiRequest::arm(
        Method::Get,
        format!("/subscriptions/{subscription}/resourceGroups/{group}/resources"),
        ResourceGroup::API_VERSION,
        None,
    )
    .with_query("$filter", &format!("tagName eq '{OWNER_TAG}'"))
}

/// Returns the owned objects in the answer to [`ownership_scan`], of the kinds whose row in the
/// table of kinds says the scan finds them ([`Orphans::GroupScan`]). Items of other types (a
/// resource someone tagged by hand) are left alone.
pub fn owned_in_scan(answer: &Value) -> Vec<OwnedObject> {
    let items = answer.get("value").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    items.iter().filter_map(owned_arm_resource).collect()
}

fn owned_arm_resource(item: &Value) -> Option<OwnedObject> {
    let id = ResourceId::parse(item.get("id")?.as_str()?).ok()?;
    let resource_type = item.get("type")?.as_str()?;
    let tags = item.get("tags")?.as_object()?;
    let owner = tags.iter().find(|(k, _)| k.eq_ignore_ascii_case(OWNER_TAG))?.1.as_str()?;
    let mark = Mark::from_tag_value(owner)?;
    let info = KindName::of_azure_type(resource_type)?.info();
    let Orphans::GroupScan = info.orphans else { return None };
    let delete = vec![info.deletion.request(&id)];
    let mut fields = OwnedFields::new();
    if let Some(location) = item.get("location").and_then(Value::as_str) {
        fields.insert("location".into(), Value::from(Location::from_azure(location).as_str()));
    }
    for (key, value) in tags {
        let key = if key.eq_ignore_ascii_case(OWNER_TAG) { OWNER_TAG } else { key.as_str() };
        fields.insert(format!("tags.{key}"), value.clone());
    }
    Some(OwnedObject {
        mark,
        resource_type: resource_type.to_owned(),
        live: LiveResource { id, document: item.clone() },
        fields,
        delete,
        warning: info.destroy_warning.map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_scan_finds_the_kinds_exai_deletes_and_leaves_the_rest() {
        let scan = ownership_scan("s", "rg");
        assert_eq!(
            scan.path_and_query(),
            "/subscriptions/s/resourceGroups/rg/resources?api-version=2025-04-01&$filter=tagName%20eq%20%27exai-owner%27"
        );
        let answer = json!({"value": [
            {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/old",
             "type": "Microsoft.ContainerRegistry/registries", "location": "France Central",
             "tags": {"EXAI-OWNER": "perso.registry", "project": "exai"}},
            {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/x",
             "type": "Microsoft.Storage/storageAccounts", "tags": {"exai-owner": "perso.storage"}},
            {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/bad",
             "type": "Microsoft.ContainerRegistry/registries", "tags": {"exai-owner": "no-dot"}}
        ]});
        let owned = owned_in_scan(&answer);
        assert_eq!(owned.len(), 1, "{owned:#?}");
        assert_eq!(owned[0].mark.address.as_str(), "perso.registry");
        assert_eq!(owned[0].fields["tags.exai-owner"], "perso.registry");
        assert_eq!(owned[0].fields["location"], "francecentral");
        assert_eq!(owned[0].delete[0].method, Method::Delete);
        assert!(owned[0].warning.as_deref().unwrap().contains("image"));
    }

    /// One tagged item of every kind in the table: the scan keeps exactly the kinds whose row
    /// says the group scan lists them, each deleted by its own api-version, with its warning.
    #[test]
    fn a_scan_finds_exactly_the_kinds_the_table_lists_as_group_scanned() {
        let items: Vec<Value> = KindName::ALL
            .iter()
            .enumerate()
            .map(|(i, kind)| {
                json!({"id": format!("/subscriptions/s/resourceGroups/rg/providers/Test.Provider/things/t{i}"),
                       "type": kind.info().azure_type.to_ascii_lowercase(), "tags": {"exai-owner": "perso.x"}})
            })
            .collect();
        let found: Vec<(String, String, String, Option<String>)> = owned_in_scan(&json!({ "value": items }))
            .into_iter()
            .map(|o| {
                let delete = &o.delete[0];
                (
                    o.resource_type,
                    format!("{:?} {}", delete.method, delete.path_and_query()),
                    o.live.id.to_string(),
                    o.warning,
                )
            })
            .map(|(t, d, id, w)| (t, d.replace(&id, "ID"), id.rsplit('/').next().unwrap_or_default().to_owned(), w))
            .collect();
        let expected = [
            (
                "microsoft.containerregistry/registries",
                "2025-11-01",
                "t1",
                "deleting a registry deletes every image in it",
            ),
            (
                "microsoft.operationalinsights/workspaces",
                "2026-03-01",
                "t2",
                "deleting a workspace deletes the logs it holds",
            ),
            (
                "microsoft.insights/datacollectionrules",
                "2022-06-01",
                "t3",
                "without its data collection rule, the cluster's container insights stop sending logs",
            ),
            (
                "microsoft.containerservice/managedclusters",
                "2026-08-01",
                "t5",
                "deleting a cluster deletes every workload running on it, and its node resource group",
            ),
        ]
        .map(|(t, version, id, w)| {
            (t.to_owned(), format!("Delete ID?api-version={version}"), id.to_owned(), Some(w.to_owned()))
        });
        assert_eq!(found, expected);
    }
}
