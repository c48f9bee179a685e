// Written by hand to match migrations/{sqlite,postgres}: the SQL types are the ones both
// backends share, so one schema serves the MultiConnection.

diesel::table! {
    requests (id) {
        id -> BigInt,
        uuid -> Text,
        ref_year -> Integer,
        kind -> Text,
        status -> Text,
        held_from -> Nullable<Text>,
        profile -> Text,
        channel -> Text,
        language -> Text,
        requester_name -> Text,
        requester_email -> Text,
        customer_ref -> Nullable<Text>,
        details -> Text,
        received_at -> Timestamp,
        received_on -> Date,
        due_on -> Date,
        paused_days -> Integer,
        paused_since -> Nullable<Date>,
        extension_months -> Integer,
        extension_days -> Integer,
        verified_at -> Nullable<Timestamp>,
        verified_method -> Nullable<Text>,
        closed_at -> Nullable<Timestamp>,
        reject_ground -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        country -> Nullable<Text>,
        representative -> Bool,
        form -> Text,
        email_confirmed_at -> Nullable<Timestamp>,
        duplicate_of -> Nullable<BigInt>,
        assignee_id -> Nullable<BigInt>,
        subject_name -> Nullable<Text>,
        subject_email -> Nullable<Text>,
        subject_customer_ref -> Nullable<Text>,
        sources_state -> Nullable<Text>,
        acting -> Text,
        subject_birth_date -> Nullable<Date>,
        closed_on -> Nullable<Date>,
        on_time -> Nullable<Bool>,
    }
}

diesel::table! {
    request_events (id) {
        id -> BigInt,
        request_id -> BigInt,
        kind -> Text,
        at -> Timestamp,
        recorded_at -> Timestamp,
        actor -> Text,
        from_status -> Nullable<Text>,
        to_status -> Nullable<Text>,
        note -> Nullable<Text>,
        data -> Text,
    }
}

diesel::table! {
    api_keys (id) {
        id -> BigInt,
        name -> Text,
        key_prefix -> Text,
        key_hash -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    jobs (id) {
        id -> BigInt,
        kind -> Text,
        payload -> Text,
        status -> Text,
        run_at -> Timestamp,
        attempts -> Integer,
        max_attempts -> Integer,
        last_error -> Nullable<Text>,
        locked_until -> Nullable<Timestamp>,
        locked_by -> Nullable<Text>,
        dedup_key -> Nullable<Text>,
        created_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> BigInt,
        message_id -> Text,
        request_id -> Nullable<BigInt>,
        template -> Text,
        language -> Text,
        to_addr -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        created_at -> Timestamp,
        next_attempt_at -> Timestamp,
        attempts -> Integer,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        target_type -> Text,
        target_id -> Nullable<Text>,
        details -> Text,
        seq -> Nullable<BigInt>,
        prev_hash -> Nullable<Text>,
        hash -> Nullable<Text>,
    }
}

diesel::joinable!(request_events -> requests (request_id));
diesel::joinable!(mail_outbox -> requests (request_id));
diesel::allow_tables_to_appear_in_same_query!(
    requests,
    request_events,
    api_keys,
    jobs,
    mail_outbox,
    audit_log
);

diesel::table! {
    request_tokens (id) {
        id -> BigInt,
        request_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    documents (id) {
        id -> BigInt,
        request_id -> BigInt,
        purpose -> Text,
        storage_name -> Nullable<Text>,
        original_name -> Nullable<Text>,
        content_type -> Text,
        size_bytes -> BigInt,
        uploaded_at -> Timestamp,
        decision -> Nullable<Text>,
        decision_reason -> Nullable<Text>,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    messages (id) {
        id -> BigInt,
        request_id -> BigInt,
        author -> Text,
        body -> Text,
        document_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(request_tokens -> requests (request_id));
diesel::joinable!(requests -> users (assignee_id));
diesel::joinable!(documents -> requests (request_id));
diesel::joinable!(messages -> requests (request_id));
diesel::allow_tables_to_appear_in_same_query!(requests, request_tokens, documents, messages);

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        name -> Text,
        role -> Text,
        password_hash -> Nullable<Text>,
        totp_secret -> Nullable<Text>,
        session_epoch -> Integer,
        disabled_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        last_login_at -> Nullable<Timestamp>,
        lang -> Nullable<Text>,
        totp_last_step -> Nullable<BigInt>,
    }
}

diesel::table! {
    password_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        purpose -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    notes (id) {
        id -> BigInt,
        request_id -> BigInt,
        author_id -> BigInt,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(password_tokens -> users (user_id));
diesel::joinable!(notes -> requests (request_id));
diesel::joinable!(notes -> users (author_id));
diesel::allow_tables_to_appear_in_same_query!(users, password_tokens, notes, requests);

diesel::table! {
    staff_sessions (id) {
        id -> BigInt,
        token_hash -> Text,
        user_id -> BigInt,
        epoch -> Integer,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(staff_sessions -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(staff_sessions, users);

diesel::table! {
    rate_limits (key_hash) {
        key_hash -> Text,
        hits -> Integer,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    sign_in_attempts (key_hash) {
        key_hash -> Text,
        attempts -> Integer,
        last_at_ms -> BigInt,
    }
}

diesel::table! {
    request_reminders (request_id) {
        request_id -> BigInt,
        next_on -> Nullable<Date>,
        last_threshold -> Nullable<Integer>,
        last_sent_on -> Nullable<Date>,
    }
}

diesel::table! {
    schedule_runs (task, period) {
        task -> Text,
        period -> Text,
        enqueued_at -> Timestamp,
    }
}

diesel::joinable!(request_reminders -> requests (request_id));
diesel::allow_tables_to_appear_in_same_query!(request_reminders, requests);

diesel::table! {
    source_runs (id) {
        id -> BigInt,
        request_id -> BigInt,
        source -> Text,
        operation -> Text,
        status -> Text,
        records -> Nullable<BigInt>,
        outcome -> Text,
        error -> Nullable<Text>,
        staged -> Nullable<Text>,
        recipient -> Nullable<Text>,
        comment -> Nullable<Text>,
        actor -> Nullable<Text>,
        job_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    exports (id) {
        id -> BigInt,
        request_id -> BigInt,
        status -> Text,
        portability -> Bool,
        storage_name -> Nullable<Text>,
        size -> Nullable<BigInt>,
        records -> BigInt,
        manifest -> Text,
        removed -> Text,
        error -> Nullable<Text>,
        built_at -> Nullable<Timestamp>,
        released_at -> Nullable<Timestamp>,
        released_by -> Nullable<Text>,
        expires_at -> Nullable<Timestamp>,
        downloads -> Integer,
        max_downloads -> Integer,
        purged_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        transfer_token_hash -> Nullable<Text>,
    }
}

diesel::table! {
    suppressions (hash, scope) {
        hash -> Text,
        scope -> Text,
        request_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(source_runs, exports, requests);

diesel::table! {
    restrictions (id) {
        id -> BigInt,
        request_id -> BigInt,
        ground -> Nullable<Text>,
        sources -> Text,
        state -> Text,
        since -> Timestamp,
        lift_on -> Nullable<Date>,
        lift_reason -> Nullable<Text>,
        lift_by -> Nullable<Text>,
        notice_sent_at -> Nullable<Timestamp>,
        lifted_at -> Nullable<Timestamp>,
        outcome -> Nullable<Text>,
    }
}

diesel::table! {
    retention_holds (id) {
        id -> BigInt,
        request_id -> BigInt,
        source -> Text,
        what -> Text,
        rows_kept -> BigInt,
        activity -> Text,
        rule -> Text,
        until -> Date,
        keys -> Text,
        state -> Text,
        created_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        outcome -> Nullable<Text>,
    }
}

diesel::table! {
    fees (id) {
        id -> BigInt,
        request_id -> BigInt,
        basis -> Text,
        amount_cents -> BigInt,
        reason -> Text,
        state -> Text,
        decided_by -> Text,
        decided_at -> Timestamp,
        settled_by -> Nullable<Text>,
        settled_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(restrictions -> requests (request_id));
diesel::joinable!(retention_holds -> requests (request_id));
diesel::joinable!(fees -> requests (request_id));
diesel::allow_tables_to_appear_in_same_query!(restrictions, retention_holds, fees, requests);

diesel::table! {
    request_contacts (request_id) {
        request_id -> BigInt,
        prefers_post -> Bool,
        address_lines -> Nullable<Text>,
        postcode -> Nullable<Text>,
        city -> Nullable<Text>,
        country -> Nullable<Text>,
        received_registered -> Nullable<Text>,
    }
}

diesel::table! {
    request_scopes (request_id) {
        request_id -> BigInt,
        activities -> Nullable<Text>,
        confirmed_by -> Text,
        confirmed_at -> Timestamp,
        balancing -> Nullable<Text>,
        grounds -> Nullable<Text>,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(request_scopes -> requests (request_id));
diesel::allow_tables_to_appear_in_same_query!(request_scopes, requests);

diesel::table! {
    directives (id) {
        id -> BigInt,
        person_name -> Text,
        person_email -> Nullable<Text>,
        customer_ref -> Nullable<Text>,
        kind -> Text,
        fate -> Text,
        instructions -> Text,
        designee_name -> Nullable<Text>,
        designee_email -> Nullable<Text>,
        request_id -> BigInt,
        recorded_at -> Timestamp,
        recorded_by -> Text,
        ended_at -> Nullable<Timestamp>,
        ended_reason -> Nullable<Text>,
        ended_by_request -> Nullable<BigInt>,
    }
}

diesel::table! {
    stored_files (name) {
        name -> Text,
        size -> BigInt,
        created_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    stored_file_chunks (name, seq) {
        name -> Text,
        seq -> BigInt,
        data -> Binary,
    }
}

diesel::joinable!(stored_file_chunks -> stored_files (name));
diesel::allow_tables_to_appear_in_same_query!(stored_file_chunks, stored_files);

diesel::table! {
    report_counts (series, period, key, days, on_time, shard) {
        series -> Text,
        period -> Text,
        key -> Text,
        days -> Integer,
        on_time -> Integer,
        shard -> Integer,
        count -> BigInt,
    }
}
