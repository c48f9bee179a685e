//! The law of data-subject requests, free of HTTP and SQL: what a request is ([`kind`]), how
//! it moves from status to status ([`status`], [`lifecycle`]), when it is due ([`deadline`],
//! over the working days of [`calendar`]), what filing one takes, per kind ([`filing`]), the
//! checked values it carries ([`email`], [`reference`](mod@reference)), how its fulfilment
//! moves ([`fulfilment`]), what a data source did for it ([`outcome`]) and how identity was
//! checked ([`verification`]).
//!
//! Every function here is pure: dates and instants come in as arguments,
//! never from the clock.

pub mod calendar;
pub mod deadline;
pub mod desk;
pub mod email;
pub mod filing;
pub mod follow;
pub mod fulfilment;
pub mod kind;
pub mod lifecycle;
pub mod outcome;
pub mod reference;
pub mod reminder;
pub mod scope;
pub mod stage;
pub mod status;
pub mod text;
pub mod verification;

pub use calendar::{Country, HolidayCalendar};
pub use deadline::{Deadline, ExtensionError, Pauses, Period, Profile};
pub use email::{EmailAddress, InvalidEmail};
pub use kind::{Channel, RejectGround, RequestKind, UnknownValue};
pub use reference::Reference;
pub use status::{Status, TransitionError};
