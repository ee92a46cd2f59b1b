//! The Azure regions the emulator accepts as a location.
//!
//! The list is the one ARM itself gave in 2024 when refusing a resource-group location
//! (`LocationNotAvailableForResourceGroup`, quoted in MicrosoftDocs/executable-docs#74), minus the
//! two canary regions (`centraluseuap`, `eastus2euap`) ordinary subscriptions cannot use. Regions
//! opened since are refused: stricter than Azure, never looser.

/// Azure regions as `(name, display name)`, in the order ARM lists them.
pub(crate) const REGIONS: &[(&str, &str)] = &[
    ("eastasia", "East Asia"),
    ("southeastasia", "Southeast Asia"),
    ("australiaeast", "Australia East"),
    ("australiasoutheast", "Australia Southeast"),
    ("brazilsouth", "Brazil South"),
    ("canadacentral", "Canada Central"),
    ("canadaeast", "Canada East"),
    ("switzerlandnorth", "Switzerland North"),
    ("germanywestcentral", "Germany West Central"),
    ("eastus2", "East US 2"),
    ("eastus", "East US"),
    ("centralus", "Central US"),
    ("northcentralus", "North Central US"),
    ("francecentral", "France Central"),
    ("uksouth", "UK South"),
    ("ukwest", "UK West"),
    ("centralindia", "Central India"),
    ("southindia", "South India"),
    ("jioindiawest", "Jio India West"),
    ("italynorth", "Italy North"),
    ("japaneast", "Japan East"),
    ("japanwest", "Japan West"),
    ("koreacentral", "Korea Central"),
    ("koreasouth", "Korea South"),
    ("mexicocentral", "Mexico Central"),
    ("northeurope", "North Europe"),
    ("norwayeast", "Norway East"),
    ("polandcentral", "Poland Central"),
    ("qatarcentral", "Qatar Central"),
    ("spaincentral", "Spain Central"),
    ("swedencentral", "Sweden Central"),
    ("uaenorth", "UAE North"),
    ("westcentralus", "West Central US"),
    ("westeurope", "West Europe"),
    ("westus2", "West US 2"),
    ("westus", "West US"),
    ("southcentralus", "South Central US"),
    ("westus3", "West US 3"),
    ("southafricanorth", "South Africa North"),
    ("australiacentral", "Australia Central"),
    ("australiacentral2", "Australia Central 2"),
    ("israelcentral", "Israel Central"),
    ("westindia", "West India"),
];

/// Returns the region name (`francecentral`) for a location given as a name or a display name,
/// compared case-insensitively (`France Central`, `FranceCentral`, `francecentral`).
pub(crate) fn normalize(location: &str) -> Option<&'static str> {
    REGIONS
        .iter()
        .find(|(name, display)| location.eq_ignore_ascii_case(name) || location.eq_ignore_ascii_case(display))
        .map(|(name, _)| *name)
}

/// Returns the region names, comma-separated, as ARM lists them in errors.
pub(crate) fn names() -> String {
    REGIONS.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_names_and_display_names_only() {
        assert_eq!(normalize("francecentral"), Some("francecentral"));
        assert_eq!(normalize("France Central"), Some("francecentral"));
        assert_eq!(normalize("FRANCECENTRAL"), Some("francecentral"));
        assert_eq!(normalize("france  central"), None);
        assert_eq!(normalize("Canada"), None);
        assert_eq!(normalize("centraluseuap"), None);
    }
}
