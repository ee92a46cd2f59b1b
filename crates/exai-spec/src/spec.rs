use exai_model::kinds::ResourceGroup;
use exai_model::{Address, DesiredResource, DesiredSpec, DesiredState, Location, Tags};

/// A validated spec: every value interpolated, normalized and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// The Entra tenant (id or domain).
    pub tenant: String,
    /// The subscription id.
    pub subscription: String,
    /// The environments, in the file's order.
    pub environments: Vec<Environment>,
}

/// One environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    /// Its name: the first segment of every address in it.
    pub name: String,
    /// Its resource group.
    pub resource_group: ResourceGroupDecl,
}

/// A resource group, with defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceGroupDecl {
    /// The name.
    pub name: String,
    /// The region.
    pub location: Location,
    /// The tags the spec manages (defaults merged with the group's own).
    pub tags: Tags,
}

/// `--env` named an environment the spec does not declare.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment `{name}` is not declared in the spec (it declares: {})", .declared.join(", "))]
pub struct UnknownEnvironment {
    /// The name asked for.
    pub name: String,
    /// The names the spec declares.
    pub declared: Vec<String>,
}

impl Spec {
    /// Returns the environments selected by `only` (all of them when `None`).
    pub fn select(&self, only: Option<&str>) -> Result<Vec<&Environment>, UnknownEnvironment> {
        match only {
            None => Ok(self.environments.iter().collect()),
            Some(name) => {
                self.environments.iter().find(|e| e.name == name).map(|e| vec![e]).ok_or_else(|| UnknownEnvironment {
                    name: name.to_owned(),
                    declared: self.environments.iter().map(|e| e.name.clone()).collect(),
                })
            }
        }
    }

    /// Expands the selected environments into the resources they declare.
    pub fn desired_state(&self, only: Option<&str>) -> Result<DesiredState, UnknownEnvironment> {
        let mut resources = Vec::new();
        for env in self.select(only)? {
            let address = Address::new(&env.name, "resourceGroup");
            let rg = &env.resource_group;
            resources.push(DesiredResource {
                spec: DesiredSpec::ResourceGroup(ResourceGroup::new(
                    &self.subscription,
                    &rg.name,
                    rg.location.clone(),
                    rg.tags.clone(),
                    address.as_str(),
                )),
                address,
                depends_on: Vec::new(),
            });
        }
        Ok(DesiredState { tenant: self.tenant.clone(), resources })
    }
}
