//! Azure's naming rules, checked before any request is sent.
//!
//! Each rule names its source. A rule that is stricter than Azure is marked as such with the
//! reason; none is looser.

/// Checks a resource group name: 1–90 characters from letters, digits, `-`, `_`, `.`, `(`, `)`,
/// not ending with `.`.
///
/// Source: the `resourceGroupName` parameter of `ResourceGroups_CreateOrUpdate` in
/// azure-rest-api-specs `Microsoft.Resources/stable/2025-04-01/resources.json` (pattern
/// `^[-\w\._\(\)]+$`, maxLength 90) and the "Naming rules and restrictions for Azure resources"
/// page (`Microsoft.Resources/resourcegroups`: "Can't end with period"). `\w` is restricted to
/// ASCII here (Azure accepts Unicode letters), because such names break many scripts and tools.
pub fn resource_group_name(name: &str) -> Result<(), String> {
    let len = name.chars().count();
    if len == 0 || len > 90 {
        return Err(format!("is {len} characters long; a resource group name has 1 to 90"));
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || "-_.()".contains(*c))) {
        return Err(format!(
            "contains `{c}`; a resource group name may only contain letters, digits, `-`, `_`, `.`, `(` and `)`"
        ));
    }
    if name.ends_with('.') {
        return Err("ends with `.`, which Azure does not allow for resource groups".to_owned());
    }
    Ok(())
}

/// Checks an environment name: 1–32 characters, a lowercase letter first, then lowercase
/// letters, digits and `-`.
///
/// exai's own rule: the name starts every address (`perso.registry`), appears in ownership
/// tags and file names, and is often part of Azure names, so it is kept to the characters that
/// are safe in all of those.
pub fn environment_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 32
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(())
    } else {
        Err("an environment name has 1 to 32 characters: a lowercase letter, then lowercase letters, digits or `-`"
            .to_owned())
    }
}

/// Checks a spec name (its id in ownership marks): 1 to 140 letters, digits, `-`, `_`, `.` or
/// `/`, starting with a letter or digit.
///
/// exai's own rule ([`exai_model::Mark::check_spec_id`]): the name goes into every ownership mark,
/// next to `:` separators, in fields Azure limits to 256 characters; 140 fits a GitHub
/// `owner/repository`, the default.
pub fn spec_name(name: &str) -> Result<(), String> {
    exai_model::Mark::check_spec_id(name).map_err(|_| {
        format!(
            "a spec name has 1 to {} letters, digits, `-`, `_`, `.` or `/`, starting with a letter or digit",
            exai_model::Mark::MAX_SPEC_LEN
        )
    })
}

/// Returns true for a GUID in its 8-4-4-4-12 hexadecimal form.
pub fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Checks a subscription id: a GUID.
///
/// Source: ARM answers `InvalidSubscriptionId` ("The provided subscription identifier ... is
/// malformed or invalid") for anything else.
pub fn subscription_id(text: &str) -> Result<(), String> {
    if is_guid(text) {
        Ok(())
    } else {
        Err("a subscription id is a GUID such as `00000000-0000-0000-0000-000000000000`".to_owned())
    }
}

/// Checks a tenant: a GUID, or a verified domain such as `contoso.onmicrosoft.com`.
///
/// Source: the Entra token endpoint `https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`
/// accepts the tenant id or one of its domain names.
pub fn tenant(text: &str) -> Result<(), String> {
    let domain = text.contains('.')
        && text.split('.').all(|label| {
            !label.is_empty() && label.len() <= 63 && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if is_guid(text) || domain {
        Ok(())
    } else {
        Err("a tenant is a GUID or a domain such as `contoso.onmicrosoft.com`".to_owned())
    }
}

/// Checks a container registry name: 5–50 lowercase letters and digits.
///
/// Source: `registryName` in azure-rest-api-specs `Microsoft.ContainerRegistry/Registry/stable/
/// 2025-11-01/containerregistry.json` (minLength 5, maxLength 50, pattern `^[a-zA-Z0-9]*$`).
/// Uppercase is refused as `az acr create` refuses it: the login server is lowercase, and a
/// mixed-case name is a classic source of "image not found" when pushing.
pub fn registry_name(name: &str) -> Result<(), String> {
    let len = name.chars().count();
    if !(5..=50).contains(&len) {
        return Err(format!("is {len} characters long; a registry name has 5 to 50"));
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit())) {
        return Err(format!("contains `{c}`; a registry name has only lowercase letters and digits (no `-`)"));
    }
    Ok(())
}

/// Checks a Log Analytics workspace name: 4–63 letters, digits and `-`, starting and ending with
/// a letter or digit.
///
/// Source: "Naming rules and restrictions for Azure resources", `Microsoft.OperationalInsights/
/// workspaces` ("4-63; alphanumerics and hyphens; start and end with alphanumeric").
pub fn workspace_name(name: &str) -> Result<(), String> {
    bounded_name(name, 4, 63, "a workspace name", |c| c.is_ascii_alphanumeric() || c == '-', "letters, digits and `-`")
}

/// Checks an AKS cluster name: 1–63 letters, digits, `-` and `_`, starting and ending with a
/// letter or digit.
///
/// Source: `resourceName` in azure-rest-api-specs `Microsoft.ContainerService/aks/stable/
/// 2026-08-01/managedClusters.json` (pattern
/// `^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$`).
pub fn cluster_name(name: &str) -> Result<(), String> {
    bounded_name(
        name,
        1,
        63,
        "a cluster name",
        |c| c.is_ascii_alphanumeric() || c == '-' || c == '_',
        "letters, digits, `-` and `_`",
    )
}

/// Checks an AKS DNS prefix: 1–54 letters, digits and `-`, starting and ending with a letter or
/// digit.
///
/// Source: `dnsPrefix` in `managedClusters.json` 2026-08-01 and the AKS error
/// `InvalidDnsPrefix` ("... can contain only letters, numbers, and hyphens. It must start with a
/// letter and end with a letter or a number ... between 1 and 54 characters"). exai also
/// requires the first character to be a letter, as that message does.
pub fn dns_prefix(name: &str) -> Result<(), String> {
    bounded_name(name, 1, 54, "a DNS prefix", |c| c.is_ascii_alphanumeric() || c == '-', "letters, digits and `-`")?;
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err("must start with a letter".to_owned());
    }
    Ok(())
}

fn bounded_name(
    name: &str,
    min: usize,
    max: usize,
    what: &str,
    allowed: fn(char) -> bool,
    described: &str,
) -> Result<(), String> {
    let len = name.chars().count();
    if !(min..=max).contains(&len) {
        return Err(format!("is {len} characters long; {what} has {min} to {max}"));
    }
    if let Some(c) = name.chars().find(|c| !allowed(*c)) {
        return Err(format!("contains `{c}`; {what} has only {described}"));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) || !name.ends_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(format!("{what} must start and end with a letter or digit"));
    }
    Ok(())
}

/// Checks a node pool name: a lowercase letter, then up to 11 lowercase letters or digits.
///
/// Source: `ManagedClusterAgentPoolProfile.name` in `managedClusters.json` 2026-08-01 (pattern
/// `^[a-z][a-z0-9]{0,11}$`).
pub fn pool_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 12
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if valid {
        Ok(())
    } else {
        Err("a pool name is a lowercase letter, then up to 11 lowercase letters or digits".to_owned())
    }
}

/// Checks the shape of a VM size name: `Standard_` (or `Basic_`) then a family and size, with
/// optional `_`-separated suffixes (`Standard_B2s`, `Standard_D4s_v5`, `Standard_NC24ads_A100_v4`).
///
/// Source: the `name` values of `az vm list-sizes`. Only the shape is checked before any request:
/// which sizes a region offers is a question for Azure (`az vm list-skus -l <region>`).
pub fn vm_size(name: &str) -> Result<(), String> {
    let rest = name.strip_prefix("Standard_").or_else(|| name.strip_prefix("Basic_"));
    let valid = rest.is_some_and(|r| {
        !r.is_empty()
            && r.starts_with(|c: char| c.is_ascii_uppercase())
            && r.split('_').all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric()))
    });
    if valid { Ok(()) } else { Err("a VM size looks like `Standard_B2s` or `Standard_D4s_v5`".to_owned()) }
}

/// Checks a Kubernetes version: `MAJOR.MINOR` or `MAJOR.MINOR.PATCH`.
///
/// Source: `kubernetesVersion` in `managedClusters.json` ("both patch version <major.minor.patch>
/// and <major.minor> are supported").
pub fn kubernetes_version(version: &str) -> Result<(), String> {
    let parts: Vec<&str> = version.split('.').collect();
    let valid =
        (2..=3).contains(&parts.len()) && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if valid { Ok(()) } else { Err("a Kubernetes version looks like `1.33` or `1.33.2`".to_owned()) }
}

/// Checks an application display name: 1–120 characters, no control characters, no leading
/// or trailing spaces.
///
/// Source: Microsoft Graph `application.displayName` (required) and the Entra portal's limit of
/// 120 characters for an app registration's name (Graph itself accepts up to 256; exai keeps to
/// what the portal can show and edit).
pub fn display_name(name: &str) -> Result<(), String> {
    let len = name.chars().count();
    if !(1..=120).contains(&len) {
        return Err(format!("is {len} characters long; a display name has 1 to 120"));
    }
    if name.trim() != name {
        return Err("starts or ends with a space".to_owned());
    }
    if name.chars().any(char::is_control) {
        return Err("contains a control character".to_owned());
    }
    Ok(())
}

/// Checks a GitHub repository: `owner/name`.
///
/// Source: GitHub's sign-up rules for owners ("Username may only contain alphanumeric characters
/// or single hyphens, and cannot begin or end with a hyphen", at most 39 characters) and for
/// repository names (letters, digits, `-`, `_`, `.`, at most 100 characters; `.` and `..` are
/// reserved).
pub fn github_repository(text: &str) -> Result<(), String> {
    let Some((owner, name)) = text.split_once('/') else {
        return Err("a repository is written `owner/name`".to_owned());
    };
    let owner_ok = !owner.is_empty()
        && owner.len() <= 39
        && owner.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !owner.starts_with('-')
        && !owner.ends_with('-')
        && !owner.contains("--");
    if !owner_ok {
        return Err(format!(
            "`{owner}` is not a GitHub owner: 1 to 39 letters, digits or single `-`, not at either end"
        ));
    }
    let name_ok = !name.is_empty()
        && name.len() <= 100
        && name != "."
        && name != ".."
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !name_ok {
        return Err(format!("`{name}` is not a GitHub repository name: 1 to 100 letters, digits, `-`, `_` or `.`"));
    }
    Ok(())
}

/// Checks a branch name with git's rules for ref names.
///
/// Source: `git check-ref-format` (no `..`, no space or `~^:?*[\`, no control character, no
/// `@{`, not starting or ending with `/`, no `//`, not ending with `.` or `.lock`).
pub fn branch_name(name: &str) -> Result<(), String> {
    let bad = name.is_empty()
        || name.contains("..")
        || name.contains("@{")
        || name.contains("//")
        || name.starts_with('/')
        || name.ends_with('/')
        || name.ends_with('.')
        || name.ends_with(".lock")
        || name.chars().any(|c| c.is_control() || " ~^:?*[\\".contains(c));
    if bad { Err("not a valid git branch name (see `git check-ref-format`)".to_owned()) } else { Ok(()) }
}

/// Checks a GitHub deployment environment name: 1–255 characters, no control character and no
/// `:` (which would make the OIDC subject ambiguous).
///
/// Source: GitHub docs, "Managing environments for deployment" ("may not exceed 255
/// characters"); the `:` rule is exai's, stricter than GitHub.
pub fn github_environment(name: &str) -> Result<(), String> {
    let len = name.chars().count();
    if !(1..=255).contains(&len) || name.chars().any(|c| c.is_control() || c == ':') {
        return Err("a GitHub environment name has 1 to 255 characters, without `:`".to_owned());
    }
    Ok(())
}

/// Checks a Kubernetes namespace name: an RFC 1123 label, 1–63 lowercase letters, digits and
/// `-`, starting and ending with a letter or digit.
///
/// Source: Kubernetes documentation, "Object Names and IDs" ("RFC 1123 Label Names"; namespaces
/// are such labels).
pub fn kubernetes_namespace(name: &str) -> Result<(), String> {
    bounded_name(
        name,
        1,
        63,
        "a namespace",
        |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-',
        "lowercase letters, digits and `-`",
    )
}

/// Checks the name of a Secret or ConfigMap: an RFC 1123 subdomain, 1–253 lowercase letters,
/// digits, `-` and `.`, starting and ending with a letter or digit.
///
/// Source: Kubernetes documentation, "Object Names and IDs" ("DNS Subdomain Names").
pub fn kubernetes_object_name(name: &str) -> Result<(), String> {
    bounded_name(
        name,
        1,
        253,
        "an object name",
        |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.',
        "lowercase letters, digits, `-` and `.`",
    )
}

/// Checks a key of a Secret or ConfigMap: 1–253 letters, digits, `-`, `_` and `.`.
///
/// Source: Kubernetes API reference, Secret `data` ("The keys stored in data must consist of
/// alphanumeric characters, '-', '_' or '.'"), and the validation's 253-character limit.
pub fn kubernetes_key(key: &str) -> Result<(), String> {
    let len = key.chars().count();
    if !(1..=253).contains(&len) {
        return Err(format!("is {len} characters long; a key has 1 to 253"));
    }
    if let Some(c) = key.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))) {
        return Err(format!("contains `{c}`; a key has only letters, digits, `-`, `_` and `.`"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_group_names() {
        assert!(resource_group_name("exai-perso-rg").is_ok());
        assert!(resource_group_name("a(b)_c.d").is_ok());
        assert!(resource_group_name(&"a".repeat(90)).is_ok());
        assert!(resource_group_name(&"a".repeat(91)).is_err());
        assert!(resource_group_name("").is_err());
        assert!(resource_group_name("rg.").is_err());
        assert!(resource_group_name("my rg").is_err());
    }

    #[test]
    fn ids() {
        assert!(subscription_id("ee000000-0000-4000-8000-000000000002").is_ok());
        assert!(subscription_id("not-a-guid").is_err());
        assert!(tenant("contoso.onmicrosoft.com").is_ok());
        assert!(tenant("ee000000-0000-4000-8000-000000000001").is_ok());
        assert!(tenant("contoso").is_err());
        assert!(environment_name("perso").is_ok());
        assert!(environment_name("Prod").is_err());
        assert!(environment_name("a.b").is_err());
    }

    #[test]
    fn resource_names() {
        assert!(registry_name("exaipersoacr").is_ok());
        assert!(registry_name("ExaiAcr").is_err());
        assert!(registry_name("exai-acr").is_err());
        assert!(registry_name("acr").is_err());
        assert!(workspace_name("exai-perso-logs").is_ok());
        assert!(workspace_name("-logs").is_err());
        assert!(cluster_name("exai_perso-aks").is_ok());
        assert!(cluster_name("aks-").is_err());
        assert!(dns_prefix("exai-perso-exai-perso-rg-ee0000").is_ok());
        assert!(dns_prefix("1abc").is_err());
        assert!(dns_prefix(&"a".repeat(55)).is_err());
        assert!(pool_name("nodepool1").is_ok());
        assert!(pool_name("NodePool").is_err());
        assert!(pool_name("averyverylongname").is_err());
        assert!(vm_size("Standard_B2s").is_ok());
        assert!(vm_size("Standard_NC24ads_A100_v4").is_ok());
        assert!(vm_size("B2s").is_err());
        assert!(vm_size("Standard_").is_err());
        assert!(vm_size("standard_b2s").is_err());
        assert!(kubernetes_version("1.33").is_ok());
        assert!(kubernetes_version("1.33.2").is_ok());
        assert!(kubernetes_version("v1.33").is_err());
    }

    #[test]
    fn kubernetes_names() {
        assert!(kubernetes_namespace("exai").is_ok());
        assert!(kubernetes_namespace("Exai").is_err());
        assert!(kubernetes_namespace("exai-").is_err());
        assert!(kubernetes_namespace(&"a".repeat(64)).is_err());
        assert!(kubernetes_object_name("gateway-secrets.v1").is_ok());
        assert!(kubernetes_object_name("gateway_secrets").is_err());
        assert!(kubernetes_key("database-url").is_ok());
        assert!(kubernetes_key("DATABASE_URL.v1").is_ok());
        assert!(kubernetes_key("database url").is_err());
        assert!(kubernetes_key("").is_err());
    }

    #[test]
    fn github_names() {
        assert!(github_repository("my-org/exai").is_ok());
        assert!(github_repository("my-org").is_err());
        assert!(github_repository("-org/x").is_err());
        assert!(github_repository("org/..").is_err());
        assert!(branch_name("release/1.0").is_ok());
        assert!(branch_name("feature..x").is_err());
        assert!(branch_name("a b").is_err());
        assert!(github_environment("prod").is_ok());
        assert!(github_environment("a:b").is_err());
        assert!(display_name("exai-perso-github-sp").is_ok());
        assert!(display_name(" x").is_err());
    }
}
