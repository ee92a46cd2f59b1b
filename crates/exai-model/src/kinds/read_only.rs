//! The members the swagger marks `readOnly`, per ARM resource type exai writes, from the sourced
//! list in `fixtures/read_only.txt`: what no body exai sends may hold, and what a
//! read-modify-write leaves out ([`super::writable_members`]).

/// The sourced list: `[<type>]` sections of JSON paths (see the file's header).
const FIXTURE: &str = include_str!("fixtures/read_only.txt");

/// Returns the ARM resource types that have a list, in the fixture's order
/// (`Microsoft.ContainerRegistry/registries`, ...).
pub fn read_only_types() -> impl Iterator<Item = &'static str> {
    FIXTURE.lines().filter_map(section_name)
}

/// Returns the paths of the members of `resource_type` (compared case-insensitively) the
/// swagger marks `readOnly`, e.g. `properties.loginServer`; `*` stands for every item of an
/// array or value of a map. Empty for a type with no list.
pub fn read_only_paths_of(resource_type: &str) -> impl Iterator<Item = &'static str> + use<'_> {
    let mut in_section = false;
    FIXTURE.lines().map(str::trim).filter(move |line| {
        if let Some(name) = section_name(line) {
            in_section = name.eq_ignore_ascii_case(resource_type);
            return false;
        }
        in_section && !line.is_empty() && !line.starts_with('#')
    })
}

fn section_name(line: &str) -> Option<&str> {
    line.trim().strip_prefix('[')?.strip_suffix(']')
}

/// Returns the ARM resource type a request path writes (`/subscriptions/s/resourceGroups/g` →
/// `Microsoft.Resources/resourceGroups`; `.../providers/Microsoft.Insights/dataCollectionRules/r`
/// → `Microsoft.Insights/dataCollectionRules`; an extension resource's type is the one after its
/// last `providers`), or `None` for a path that names no resource (a collection, an action).
pub fn resource_type_of(path: &str) -> Option<String> {
    let path = path.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let last_providers = segments.iter().rposition(|segment| segment.eq_ignore_ascii_case("providers"));
    match last_providers {
        // `providers/{namespace}/{type}/{name}` (nested types, `{type}/{name}/{child}/{name}`,
        // are named `{type}/{child}`).
        Some(at) => {
            let rest = &segments[at + 1..];
            let [namespace, pairs @ ..] = rest else { return None };
            if pairs.is_empty() || pairs.len() % 2 != 0 {
                return None;
            }
            let types: Vec<&str> = pairs.iter().step_by(2).copied().collect();
            Some(format!("{namespace}/{}", types.join("/")))
        }
        None => match segments.as_slice() {
            [subscriptions, _, groups, _]
                if subscriptions.eq_ignore_ascii_case("subscriptions")
                    && groups.eq_ignore_ascii_case("resourcegroups") =>
            {
                Some("Microsoft.Resources/resourceGroups".to_owned())
            }
            _ => None,
        },
    }
}

/// Returns the read-only paths of `resource_type` ([`read_only_paths_of`]) that `body` holds,
/// spelled with the array index or map key found (`properties.agentPoolProfiles.0.eTag`).
pub fn read_only_members_of(resource_type: &str, body: &serde_json::Value) -> Vec<String> {
    let mut found = Vec::new();
    for path in read_only_paths_of(resource_type) {
        let segments: Vec<&str> = path.split('.').collect();
        super::cluster::find_path(body, &segments, String::new(), &mut found);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_each_type_exai_writes_to_arm() {
        let types: Vec<&str> = read_only_types().collect();
        assert_eq!(
            types,
            [
                "Microsoft.Resources/resourceGroups",
                "Microsoft.ContainerRegistry/registries",
                "Microsoft.OperationalInsights/workspaces",
                "Microsoft.Insights/dataCollectionRules",
                "Microsoft.Insights/dataCollectionRuleAssociations",
                "Microsoft.Authorization/roleAssignments",
                "Microsoft.ContainerService/managedClusters",
            ]
        );
        for kind in types {
            let paths: Vec<&str> = read_only_paths_of(kind).collect();
            assert!(paths.contains(&"id"), "{kind}: {paths:?}");
            assert!(paths.iter().all(|path| !path.contains(char::is_whitespace)), "{kind}: {paths:?}");
        }
        assert_eq!(read_only_paths_of("microsoft.resources/RESOURCEGROUPS").count(), 4);
        assert_eq!(read_only_paths_of("Microsoft.Unknown/things").count(), 0);
    }

    #[test]
    fn names_the_type_a_path_writes() {
        let group = "/subscriptions/s/resourceGroups/g";
        let cases = [
            (group.to_owned(), Some("Microsoft.Resources/resourceGroups")),
            (
                format!("{group}/providers/Microsoft.ContainerRegistry/registries/r?api-version=1"),
                Some("Microsoft.ContainerRegistry/registries"),
            ),
            (
                format!(
                    "{group}/providers/Microsoft.ContainerService/managedClusters/c/providers/Microsoft.Insights/dataCollectionRuleAssociations/a"
                ),
                Some("Microsoft.Insights/dataCollectionRuleAssociations"),
            ),
            (
                format!(
                    "{group}/providers/Microsoft.ContainerRegistry/registries/r/providers/Microsoft.Authorization/roleAssignments/x"
                ),
                Some("Microsoft.Authorization/roleAssignments"),
            ),
            (
                format!("{group}/providers/Microsoft.ContainerService/managedClusters/c/agentPools/p"),
                Some("Microsoft.ContainerService/managedClusters/agentPools"),
            ),
            ("/subscriptions/s/providers/Microsoft.ContainerRegistry/checkNameAvailability".to_owned(), None),
            ("/subscriptions/s/resourceGroups".to_owned(), None),
        ];
        for (path, expected) in cases {
            assert_eq!(resource_type_of(&path).as_deref(), expected, "{path}");
        }
    }

    #[test]
    fn finds_the_read_only_members_a_body_holds() {
        let rule = json!({"location": "francecentral", "etag": "x", "properties": {"destinations": {"logAnalytics": [
            {"name": "a", "workspaceResourceId": "/w"},
            {"name": "b", "workspaceId": "guid"}
        ]}}});
        assert_eq!(
            read_only_members_of("Microsoft.Insights/dataCollectionRules", &rule),
            ["etag", "properties.destinations.logAnalytics.1.workspaceId"]
        );
        let assignment = json!({"properties": {"roleDefinitionId": "/r", "principalId": "p", "scope": "/s"}});
        assert_eq!(read_only_members_of("Microsoft.Authorization/roleAssignments", &assignment), ["properties.scope"]);
        assert!(read_only_members_of("Microsoft.Resources/resourceGroups", &json!({"location": "x"})).is_empty());
    }
}
