//! The Azure regions the emulator accepts as a location, and the list a subscription answers
//! (`GET /subscriptions/{id}/locations`).
//!
//! The list is the one ARM itself gave in 2024 when refusing a resource-group location
//! (`LocationNotAvailableForResourceGroup`, quoted in MicrosoftDocs/executable-docs#74), minus the
//! two canary regions (`centraluseuap`, `eastus2euap`) ordinary subscriptions cannot use. Regions
//! opened since are refused: stricter than Azure, never looser.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::toolkit::{ArmError, Subscription, check_api_version, method_not_allowed};
use crate::http::{Incoming, json_response};

/// Azure regions as `(name, display name, geography group)`, in the order ARM lists them. The
/// geography group is what `GET /subscriptions/{id}/locations` answers in
/// `metadata.geographyGroup` and puts before the display name in `regionalDisplayName`
/// (`(Europe) France Central`; `GetLocations.json` examples of Microsoft.Resources 2019-11-01 and
/// 2022-12-01).
pub(crate) const REGIONS: &[(&str, &str, &str)] = &[
    ("eastasia", "East Asia", "Asia Pacific"),
    ("southeastasia", "Southeast Asia", "Asia Pacific"),
    ("australiaeast", "Australia East", "Asia Pacific"),
    ("australiasoutheast", "Australia Southeast", "Asia Pacific"),
    ("brazilsouth", "Brazil South", "South America"),
    ("canadacentral", "Canada Central", "Canada"),
    ("canadaeast", "Canada East", "Canada"),
    ("switzerlandnorth", "Switzerland North", "Europe"),
    ("germanywestcentral", "Germany West Central", "Europe"),
    ("eastus2", "East US 2", "US"),
    ("eastus", "East US", "US"),
    ("centralus", "Central US", "US"),
    ("northcentralus", "North Central US", "US"),
    ("francecentral", "France Central", "Europe"),
    ("uksouth", "UK South", "Europe"),
    ("ukwest", "UK West", "Europe"),
    ("centralindia", "Central India", "Asia Pacific"),
    ("southindia", "South India", "Asia Pacific"),
    ("jioindiawest", "Jio India West", "Asia Pacific"),
    ("italynorth", "Italy North", "Europe"),
    ("japaneast", "Japan East", "Asia Pacific"),
    ("japanwest", "Japan West", "Asia Pacific"),
    ("koreacentral", "Korea Central", "Asia Pacific"),
    ("koreasouth", "Korea South", "Asia Pacific"),
    ("mexicocentral", "Mexico Central", "Mexico"),
    ("northeurope", "North Europe", "Europe"),
    ("norwayeast", "Norway East", "Europe"),
    ("polandcentral", "Poland Central", "Europe"),
    ("qatarcentral", "Qatar Central", "Middle East"),
    ("spaincentral", "Spain Central", "Europe"),
    ("swedencentral", "Sweden Central", "Europe"),
    ("uaenorth", "UAE North", "Middle East"),
    ("westcentralus", "West Central US", "US"),
    ("westeurope", "West Europe", "Europe"),
    ("westus2", "West US 2", "US"),
    ("westus", "West US", "US"),
    ("southcentralus", "South Central US", "US"),
    ("westus3", "West US 3", "US"),
    ("southafricanorth", "South Africa North", "Africa"),
    ("australiacentral", "Australia Central", "Asia Pacific"),
    ("australiacentral2", "Australia Central 2", "Asia Pacific"),
    ("israelcentral", "Israel Central", "Middle East"),
    ("westindia", "West India", "Asia Pacific"),
];

/// Returns the region name (`francecentral`) for a location given as a name or a display name,
/// compared case-insensitively (`France Central`, `FranceCentral`, `francecentral`).
pub(crate) fn normalize(location: &str) -> Option<&'static str> {
    REGIONS
        .iter()
        .find(|(name, display, _)| location.eq_ignore_ascii_case(name) || location.eq_ignore_ascii_case(display))
        .map(|(name, _, _)| *name)
}

/// Returns the region names, comma-separated, as ARM lists them in errors.
pub(crate) fn names() -> String {
    REGIONS.iter().map(|(name, _, _)| *name).collect::<Vec<_>>().join(",")
}

/// `GET /subscriptions/{id}/locations` (Subscriptions - List Locations, Microsoft.Resources
/// `subscriptions.json`): every region the emulator accepts, as a `LocationListResult`
/// (`{"value": [Location]}`; `az aks create --enable-addons monitoring` reads it with
/// api-version 2019-11-01 to map display names to names). The api-versions are those of the
/// subscriptions API it belongs to. `Location.type` (`Region`) exists from 2021-01-01 on (absent
/// from 2019-11-01's definition; 2020-01-01 unchecked, answered as 2019-11-01). Coordinates,
/// physical locations and paired regions, optional read-only members, are left out.
pub(crate) fn list(request: &Incoming, subscription: &Subscription) -> Result<Response, ArmError> {
    check_api_version(request, super::subscriptions::API_VERSIONS)?;
    if request.method != Method::GET {
        return Err(method_not_allowed(&request.method, &[Method::GET]));
    }
    let version = request.query_values("api-version").join(",");
    // Versions are `YYYY-MM-DD`: text order is date order.
    let typed = version.as_str() >= "2021-01-01";
    let value: Vec<Value> = REGIONS
        .iter()
        .map(|(name, display, geography)| {
            let mut location = json!({
                "id": format!("/subscriptions/{}/locations/{name}", subscription.id),
                "subscriptionId": subscription.id,
                "name": name,
                "displayName": display,
                "regionalDisplayName": format!("({geography}) {display}"),
                "metadata": {
                    "regionType": "Physical",
                    "regionCategory": "Recommended",
                    "geographyGroup": geography,
                },
            });
            if typed {
                location["type"] = json!("Region");
            }
            location
        })
        .collect();
    Ok(json_response(StatusCode::OK, &json!({ "value": value })))
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
