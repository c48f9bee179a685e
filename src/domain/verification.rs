//! How a requester's identity was checked ([`Method`]): stable codes, stored in the request's
//! `verified_method`, accepted by the API and kept as they are in the register's JSON (its
//! CSV, for a spreadsheet, says them in words).
//! The words for each are in the locale files (`verification.<code>`).

use super::kind::text_enum;

text_enum! {
    /// How identity was checked.
    pub enum Method (what = "verification method", ignore_case = false) {
        /// The requester opened the link mailed to the address they gave, and the policy
        /// for this kind of request takes a confirmed address as proof enough.
        EmailLink => "email_link",
        /// Staff saw an identity document (shown, or sent outside the portal).
        IdDocument => "id_document",
        /// A copy of an identity document came by post.
        PostalCopy => "postal_copy",
        /// The person came in and was recognised.
        InPerson => "in_person",
        /// The person answered questions only the account holder can answer.
        AccountDetails => "account_details",
        /// Staff accepted the identity document uploaded on the portal.
        IdentityUpload => "identity_upload",
        /// Staff accepted the representative's mandate uploaded on the portal.
        MandateUpload => "mandate_upload",
        /// Staff accepted the parent's proof of parental authority uploaded on the portal
        /// (and their identity document, when the policy asks for one).
        ParentalAuthorityUpload => "parental_authority_upload",
        /// After a death: staff accepted the death certificate and the proof of the filer's
        /// capacity (heir, or person the directives designate) uploaded on the portal.
        HeirProofs => "heir_proofs",
    }
}

impl Method {
    /// What a member of staff (the request page, the API) can record by hand: the others
    /// are recorded by what happened (a link opened, an upload accepted).
    pub const BY_HAND: [Method; 4] = [
        Method::IdDocument,
        Method::PostalCopy,
        Method::InPerson,
        Method::AccountDetails,
    ];

    /// A method staff may record by hand, from its code; the error lists those accepted.
    pub fn by_hand(code: &str) -> Result<Method, super::UnknownValue> {
        const CODES: [&str; 4] = ["id_document", "postal_copy", "in_person", "account_details"];
        super::kind::parse_text("verification method", code, &CODES, &Method::BY_HAND, false)
    }

    /// The method an accepted upload stands for, by the document's purpose.
    pub fn for_upload(purpose: &str) -> Method {
        match purpose {
            "mandate" => Method::MandateUpload,
            "parental_authority" => Method::ParentalAuthorityUpload,
            "heir_death_certificate" | "heir_capacity_proof" => Method::HeirProofs,
            _ => Method::IdentityUpload,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_record_four_methods_by_hand_and_nothing_else() {
        for m in Method::BY_HAND {
            assert_eq!(Method::by_hand(m.as_str()), Ok(m));
        }
        let err = Method::by_hand("email_link").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown verification method \"email_link\"; expected one of: \
             id_document, postal_copy, in_person, account_details"
        );
        assert!(Method::by_hand("passport").is_err());
    }

    #[test]
    fn an_upload_is_named_by_what_was_uploaded() {
        assert_eq!(Method::for_upload("identity"), Method::IdentityUpload);
        assert_eq!(Method::for_upload("mandate"), Method::MandateUpload);
        assert_eq!(
            Method::for_upload("heir_death_certificate"),
            Method::HeirProofs
        );
    }
}
