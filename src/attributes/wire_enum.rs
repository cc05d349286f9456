//! The one macro behind every closed-but-extensible wire enum, and its helpers.

use std::fmt;

/// A value Twilio accepts but the documentation does not list, held by the
/// `Unlisted` variant of a wire enum (e.g. `Region::unlisted("CANADA")`).
///
/// It can only be built through an enum's `unlisted` constructor (or by deserializing a
/// value the enum does not list), which never wraps a listed value: equal wire strings
/// are always equal enum values.
///
/// ```
/// use trusthub::attributes::Region;
///
/// let canada = Region::unlisted("CANADA");
/// match &canada {
///     Region::Unlisted(value) => {
///         assert_eq!(value.as_str(), "CANADA");
///         assert_eq!(value.to_string(), "CANADA");
///     }
///     other => panic!("expected an unlisted region, got {other:?}"),
/// }
/// // A listed wire string never becomes `Unlisted`.
/// assert_eq!(Region::unlisted("EUROPE"), Region::Europe);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Unlisted(Box<str>);

impl Unlisted {
    /// Wraps a value known not to be listed (callers check first).
    pub(crate) fn new_unchecked(value: String) -> Self {
        Unlisted(value.into_boxed_str())
    }

    /// The wire string, exactly as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Unlisted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A string is not one of the values a wire enum lists.
///
/// Enum values are not personal data, so the value found is part of the message. To send a
/// value the documentation does not list, use the enum's `unlisted` constructor.
///
/// ```
/// use trusthub::attributes::BusinessIndustry;
///
/// let err = "education".parse::<BusinessIndustry>().unwrap_err();
/// assert_eq!(err.type_name(), "BusinessIndustry");
/// assert_eq!(err.found(), "education");
/// assert_eq!(err.expected().len(), 31);
/// assert_eq!(err.suggestion(), Some("EDUCATION"));
/// let message = err.to_string();
/// assert!(message.starts_with(r#""education" is not a listed BusinessIndustry value"#));
/// assert!(message.contains(r#"(did you mean "EDUCATION"?)"#));
/// assert!(message.ends_with("use BusinessIndustry::unlisted(..)"));
///
/// // Nothing close: no suggestion.
/// assert_eq!("gaming".parse::<BusinessIndustry>().unwrap_err().suggestion(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValueError {
    type_name: &'static str,
    found: String,
    expected: &'static [&'static str],
}

impl UnknownValueError {
    pub(crate) fn new(
        type_name: &'static str,
        found: &str,
        expected: &'static [&'static str],
    ) -> Self {
        UnknownValueError {
            type_name,
            found: found.to_owned(),
            expected,
        }
    }

    /// The Rust type that was being parsed, e.g. `"BusinessIndustry"`.
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// The string that was not recognised.
    pub fn found(&self) -> &str {
        &self.found
    }

    /// The listed wire strings.
    pub fn expected(&self) -> &'static [&'static str] {
        self.expected
    }

    /// A listed value that equals the one found apart from letter case and `-`/`_`/space,
    /// if there is one (e.g. `"education"` -> `"EDUCATION"`).
    pub fn suggestion(&self) -> Option<&'static str> {
        let key = fold(&self.found);
        self.expected.iter().copied().find(|e| fold(e) == key)
    }
}

/// Case- and separator-insensitive form used for suggestions.
pub(crate) fn fold(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| match c {
            '-' | '_' | ' ' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

impl fmt::Display for UnknownValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a listed {} value; expected one of: ",
            self.found, self.type_name
        )?;
        for (i, e) in self.expected.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{e:?}")?;
        }
        if let Some(s) = self.suggestion() {
            write!(f, " (did you mean {s:?}?)")?;
        }
        write!(
            f,
            "; to send a value Twilio accepts but does not document, use {}::unlisted(..)",
            self.type_name
        )
    }
}

impl std::error::Error for UnknownValueError {}

/// Defines a wire enum: one variant per listed value, plus `Unlisted`.
///
/// Generated API: `LISTED`, `LISTED_WIRE`, `as_str`, `listed`, `unlisted`, `from_wire`,
/// `is_unlisted`, `FromStr` (strict: listed values only), `Display`, `Serialize` (the wire
/// string) and `Deserialize` (lenient: unknown values become `Unlisted`, so a value Twilio
/// starts returning does not break reading a resource).
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $(
                $(#[$vmeta])*
                #[doc = ""]
                #[doc = concat!("Wire value `", $wire, "`.")]
                $variant,
            )+
            /// A value Twilio accepts but the documentation does not list, built
            /// deliberately with `unlisted` (or read back from Twilio).
            Unlisted($crate::attributes::Unlisted),
        }

        impl $name {
            /// Every listed value, in the documentation's order.
            pub const LISTED: &'static [$name] = &[$($name::$variant),+];

            /// The wire strings of [`Self::LISTED`], in the same order.
            pub const LISTED_WIRE: &'static [&'static str] = &[$($wire),+];

            /// The exact wire string.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)+
                    $name::Unlisted(u) => u.as_str(),
                }
            }

            /// The listed value with exactly this wire string, if any.
            pub fn listed(wire: &str) -> Option<Self> {
                match wire {
                    $($wire => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// Deliberately sends a value Twilio accepts but the documentation does not
            /// list. If `value` is in fact a listed wire string, the listed variant is
            /// returned, so equal wire strings always compare equal.
            pub fn unlisted(value: impl Into<String>) -> Self {
                let value = value.into();
                Self::listed(&value).unwrap_or_else(|| {
                    $name::Unlisted($crate::attributes::Unlisted::new_unchecked(value))
                })
            }

            /// Lenient conversion for values read from Twilio: listed values become their
            /// variant, anything else is kept as `Unlisted`.
            pub fn from_wire(wire: &str) -> Self {
                Self::unlisted(wire)
            }

            /// Whether this is an `Unlisted` value.
            pub fn is_unlisted(&self) -> bool {
                matches!(self, $name::Unlisted(_))
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::attributes::UnknownValueError;

            /// Strict: only listed wire strings (exact case) are accepted.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::listed(s).ok_or_else(|| {
                    $crate::attributes::UnknownValueError::new(
                        stringify!($name),
                        s,
                        Self::LISTED_WIRE,
                    )
                })
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <::std::string::String as ::serde::Deserialize>::deserialize(d)?;
                Ok(Self::from_wire(&s))
            }
        }
    };
}

pub(crate) use wire_enum;
