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
}
