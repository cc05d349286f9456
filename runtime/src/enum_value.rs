//! String enums that keep values the spec does not list.
//!
//! Twilio adds enum values (and has changed their case) without notice; a closed enum would
//! turn a new value into a decode error of the whole answer. Generated enums therefore carry an
//! `Other(String)` (or similar) variant, implement [`StringEnum`], and get their `Serialize`,
//! `Deserialize`, `Display` and `FromStr` from [`string_enum_impls!`](crate::string_enum_impls).

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, Visitor};

/// A string enum whose unknown wire values are kept, not rejected.
///
/// ```
/// use trusthub_runtime::StringEnum;
///
/// #[derive(Debug, Clone, PartialEq, Eq)]
/// pub enum Status {
///     Draft,
///     PendingReview,
///     /// A value this version does not know; sent back as it came.
///     Other(String),
/// }
///
/// impl StringEnum for Status {
///     fn as_str(&self) -> &str {
///         match self {
///             Status::Draft => "draft",
///             Status::PendingReview => "pending-review",
///             Status::Other(value) => value,
///         }
///     }
///     fn from_wire(s: &str) -> Self {
///         match s {
///             "draft" => Status::Draft,
///             "pending-review" => Status::PendingReview,
///             other => Status::Other(other.to_owned()),
///         }
///     }
/// }
/// trusthub_runtime::string_enum_impls!(Status);
///
/// let parsed: Status = serde_json::from_str(r#""twilio-approved""#)?;
/// assert_eq!(parsed, Status::Other("twilio-approved".to_owned()));
/// assert_eq!(serde_json::to_string(&Status::PendingReview)?, r#""pending-review""#);
/// assert_eq!("draft".parse::<Status>(), Ok(Status::Draft));
/// assert_eq!(Status::Draft.to_string(), "draft");
/// # Ok::<(), serde_json::Error>(())
/// ```
pub trait StringEnum: Sized {
    /// The value on the wire.
    fn as_str(&self) -> &str;
    /// The variant for a wire value; an unknown value gives the variant that holds it.
    fn from_wire(s: &str) -> Self;
}

/// Deserializes any JSON string into `T` through [`StringEnum::from_wire`]. Used by
/// [`string_enum_impls!`](crate::string_enum_impls).
pub fn deserialize_string_enum<'de, T, D>(deserializer: D) -> Result<T, D::Error>
where
    T: StringEnum,
    D: Deserializer<'de>,
{
    struct StringVisitor<T>(PhantomData<T>);

    impl<T: StringEnum> Visitor<'_> for StringVisitor<T> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }

        fn visit_str<E: de::Error>(self, value: &str) -> Result<T, E> {
            Ok(T::from_wire(value))
        }
    }

    deserializer.deserialize_str(StringVisitor(PhantomData))
}

/// Implements `Serialize`, `Deserialize` (any string; unknown values kept), `Display` and
/// `FromStr<Err = Infallible>` for a type implementing [`StringEnum`]. See [`StringEnum`] for an
/// example. The expansion only names `$crate` paths, so the calling crate needs no direct
/// `serde` dependency.
#[macro_export]
macro_rules! string_enum_impls {
    ($ty:ty) => {
        impl $crate::serde::Serialize for $ty {
            fn serialize<S>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error>
            where
                S: $crate::serde::Serializer,
            {
                serializer.serialize_str($crate::StringEnum::as_str(self))
            }
        }

        impl<'de> $crate::serde::Deserialize<'de> for $ty {
            fn deserialize<D>(deserializer: D) -> ::core::result::Result<Self, D::Error>
            where
                D: $crate::serde::Deserializer<'de>,
            {
                $crate::enum_value::deserialize_string_enum(deserializer)
            }
        }

        impl ::core::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str($crate::StringEnum::as_str(self))
            }
        }

        impl ::core::str::FromStr for $ty {
            type Err = ::core::convert::Infallible;

            fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
                ::core::result::Result::Ok(<$ty as $crate::StringEnum>::from_wire(s))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use crate::StringEnum;

    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Region {
        UsaAndCanada,
        Europe,
        Other(String),
    }

    impl StringEnum for Region {
        fn as_str(&self) -> &str {
            match self {
                Region::UsaAndCanada => "USA_AND_CANADA",
                Region::Europe => "EUROPE",
                Region::Other(value) => value,
            }
        }
        fn from_wire(s: &str) -> Self {
            match s {
                "USA_AND_CANADA" => Region::UsaAndCanada,
                "EUROPE" => Region::Europe,
                other => Region::Other(other.to_owned()),
            }
        }
    }

    crate::string_enum_impls!(Region);

    #[test]
    fn known_and_unknown_values_round_trip() {
        let regions: Vec<Region> =
            serde_json::from_str(r#"["USA_AND_CANADA", "CANADA", "EUROPE"]"#).unwrap();
        assert_eq!(
            regions,
            [
                Region::UsaAndCanada,
                Region::Other("CANADA".to_owned()),
                Region::Europe
            ]
        );
        assert_eq!(
            serde_json::to_string(&regions).unwrap(),
            r#"["USA_AND_CANADA","CANADA","EUROPE"]"#
        );
        assert_eq!(Region::Other("LATAM".into()).to_string(), "LATAM");
        assert_eq!("EUROPE".parse::<Region>().unwrap(), Region::Europe);
    }

    #[test]
    fn non_strings_are_rejected() {
        assert!(serde_json::from_str::<Region>("3").is_err());
        assert!(serde_json::from_str::<Region>("null").is_err());
        let some: Option<Region> = serde_json::from_str("null").unwrap();
        assert_eq!(some, None);
    }
}
