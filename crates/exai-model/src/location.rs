use serde::{Deserialize, Serialize};
use std::fmt;

/// Azure public-cloud regions: `(name, display name)`.
///
/// Source: the output of `az account list-locations --query "[?metadata.regionType=='Physical']"`
/// (the `name` and `displayName` columns), cross-checked with
/// <https://learn.microsoft.com/azure/reliability/regions-list>. Staging and canary regions
/// (`*euap`, `*stage`) are left out on purpose: a spec that names one is almost always a typo.
pub const KNOWN_REGIONS: &[(&str, &str)] = &[
    ("australiacentral", "Australia Central"),
    ("australiacentral2", "Australia Central 2"),
    ("australiaeast", "Australia East"),
    ("australiasoutheast", "Australia Southeast"),
    ("austriaeast", "Austria East"),
    ("belgiumcentral", "Belgium Central"),
    ("brazilsouth", "Brazil South"),
    ("brazilsoutheast", "Brazil Southeast"),
    ("canadacentral", "Canada Central"),
    ("canadaeast", "Canada East"),
    ("centralindia", "Central India"),
    ("centralus", "Central US"),
    ("chilecentral", "Chile Central"),
    ("eastasia", "East Asia"),
    ("eastus", "East US"),
    ("eastus2", "East US 2"),
    ("francecentral", "France Central"),
    ("francesouth", "France South"),
    ("germanynorth", "Germany North"),
    ("germanywestcentral", "Germany West Central"),
    ("indonesiacentral", "Indonesia Central"),
    ("israelcentral", "Israel Central"),
    ("italynorth", "Italy North"),
    ("japaneast", "Japan East"),
    ("japanwest", "Japan West"),
    ("jioindiacentral", "Jio India Central"),
    ("jioindiawest", "Jio India West"),
    ("koreacentral", "Korea Central"),
    ("koreasouth", "Korea South"),
    ("malaysiawest", "Malaysia West"),
    ("mexicocentral", "Mexico Central"),
    ("newzealandnorth", "New Zealand North"),
    ("northcentralus", "North Central US"),
    ("northeurope", "North Europe"),
    ("norwayeast", "Norway East"),
    ("norwaywest", "Norway West"),
    ("polandcentral", "Poland Central"),
    ("qatarcentral", "Qatar Central"),
    ("southafricanorth", "South Africa North"),
    ("southafricawest", "South Africa West"),
    ("southcentralus", "South Central US"),
    ("southeastasia", "Southeast Asia"),
    ("southindia", "South India"),
    ("spaincentral", "Spain Central"),
    ("swedencentral", "Sweden Central"),
    ("switzerlandnorth", "Switzerland North"),
    ("switzerlandwest", "Switzerland West"),
    ("uaecentral", "UAE Central"),
    ("uaenorth", "UAE North"),
    ("uksouth", "UK South"),
    ("ukwest", "UK West"),
    ("westcentralus", "West Central US"),
    ("westeurope", "West Europe"),
    ("westindia", "West India"),
    ("westus", "West US"),
    ("westus2", "West US 2"),
    ("westus3", "West US 3"),
];

/// An Azure region in its canonical form (`francecentral`).
///
/// ARM accepts and returns regions in several spellings (`France Central`, `francecentral`,
/// `FranceCentral`); they all mean the same region, so they all normalize to one value and can
/// never show up as a difference.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Location(String);

/// A region name that is not a known Azure region.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{given}` is not an Azure region")]
pub struct LocationError {
    /// The text that was given.
    pub given: String,
    /// The closest known region, when one is close enough to be a likely typo.
    pub suggestion: Option<&'static str>,
}

fn canonical(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect()
}

impl Location {
    /// Parses a region a person wrote, in either form, rejecting unknown regions.
    pub fn parse(text: &str) -> Result<Self, LocationError> {
        let wanted = canonical(text);
        if KNOWN_REGIONS.iter().any(|(name, _)| *name == wanted) {
            return Ok(Self(wanted));
        }
        let suggestion = KNOWN_REGIONS
            .iter()
            .map(|(name, _)| (strsim::damerau_levenshtein(name, &wanted), *name))
            .filter(|(distance, _)| *distance <= 3)
            .min()
            .map(|(_, name)| name);
        Err(LocationError { given: text.to_owned(), suggestion })
    }

    /// Normalizes a region Azure returned. Unlike [`Location::parse`] this never fails: a region
    /// newer than [`KNOWN_REGIONS`] is still a region, and reading it must not break a plan.
    pub fn from_azure(text: &str) -> Self {
        Self(canonical(text))
    }

    /// Returns the canonical name (`francecentral`).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_and_names_are_the_same_region() {
        assert_eq!(Location::parse("France Central").unwrap(), Location::parse("francecentral").unwrap());
        assert_eq!(Location::from_azure("FranceCentral").as_str(), "francecentral");
    }

    #[test]
    fn typos_get_a_suggestion() {
        let err = Location::parse("francecentrl").unwrap_err();
        assert_eq!(err.suggestion, Some("francecentral"));
        let err = Location::parse("mars").unwrap_err();
        assert_eq!(err.suggestion, None);
    }

    #[test]
    fn region_list_is_sorted_and_canonical() {
        for pair in KNOWN_REGIONS.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} before {}", pair[0].0, pair[1].0);
        }
        for (name, display) in KNOWN_REGIONS {
            assert_eq!(canonical(display), *name);
        }
    }
}
