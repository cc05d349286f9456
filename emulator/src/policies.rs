//! Well-known Trust Hub policy (regulation) SIDs the emulator serves under `/v1/Policies`.

/// Secondary Customer Profile of type Business: the policy of the seed document's flow.
pub const SECONDARY_CUSTOMER_PROFILE: &str = "RNdfbf3fae0e1107f8aded0e7cead80bf5";
/// Primary Customer Profile of type Business (the ISV's own, already approved, profile).
pub const PRIMARY_BUSINESS_PROFILE: &str = "RN6433641899984f951173ef1738c3bdd0";
/// ISV Starter Customer Profile.
pub const ISV_STARTER_PROFILE: &str = "RN806dd6cd175f314e1f96a9727ee271f4";
/// A2P messaging trust product.
pub const A2P_TRUST_PRODUCT: &str = "RNb0d4771c2c98518d916a3d4cd70a8f8b";
/// SHAKEN/STIR trust product.
pub const SHAKEN_STIR: &str = "RN7a97559effdf62d00f4298208492a5ea";
/// CNAM trust product.
pub const CNAM: &str = "RNf3db3cd1fe25fcfd3c3ded065c8fea53";
