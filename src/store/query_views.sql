-- The views of `mailtrail query`: the public, stable face of the store (docs/query.md documents
-- every column). They are TEMP views made on the read-only query connection, never stored in
-- the file: unqualified names resolve to `temp` first, so `email_events` and `sync_runs` here
-- shadow the internal tables of the same name, and the internal schema can change without
-- breaking anyone's saved queries. Internal tables are always named with `main.`.
--
-- Conventions: a time `x` is ISO 8601 UTC text with milliseconds (2026-11-20T11:59:58.123Z)
-- and `x_ms` the same instant in epoch milliseconds; strings are as Graph sent them; `raw` is
-- the verbatim Graph JSON (json_extract works on it).

-- One row per alert in its current (newest) state.
CREATE TEMP VIEW threats AS
SELECT
    a.tenant                                                              AS tenant,
    a.id                                                                  AS alert_id,
    strftime('%Y-%m-%dT%H:%M:%S', a.created_ms / 1000, 'unixepoch')
        || printf('.%03dZ', a.created_ms % 1000)                          AS created,
    a.created_ms                                                          AS created_ms,
    strftime('%Y-%m-%dT%H:%M:%S', a.last_update_ns / 1000000000, 'unixepoch')
        || printf('.%03dZ', (a.last_update_ns / 1000000) % 1000)          AS last_updated,
    a.last_update_ns / 1000000                                            AS last_updated_ms,
    CASE WHEN a.resolved_ms IS NOT NULL THEN
        strftime('%Y-%m-%dT%H:%M:%S', a.resolved_ms / 1000, 'unixepoch')
        || printf('.%03dZ', a.resolved_ms % 1000) END                     AS resolved,
    a.resolved_ms                                                         AS resolved_ms,
    strftime('%Y-%m-%dT%H:%M:%fZ', json_extract(a.raw, '$.firstActivityDateTime')) AS first_activity,
    strftime('%Y-%m-%dT%H:%M:%fZ', json_extract(a.raw, '$.lastActivityDateTime'))  AS last_activity,
    a.severity                                                            AS severity,
    a.status                                                              AS status,
    a.classification                                                      AS classification,
    a.determination                                                       AS determination,
    a.title                                                               AS title,
    a.category                                                            AS category,
    json_extract(a.raw, '$.description')                                  AS description,
    json_extract(a.raw, '$.recommendedActions')                           AS recommended_actions,
    json_extract(a.raw, '$.threatDisplayName')                            AS threat_display_name,
    json_extract(a.raw, '$.actorDisplayName')                             AS actor_display_name,
    json(json_extract(a.raw, '$.mitreTechniques'))                        AS mitre_techniques,
    a.service_source                                                      AS service_source,
    a.detection_source                                                    AS detection_source,
    a.incident_id                                                         AS incident_id,
    a.assigned_to                                                         AS assigned_to,
    json_extract(a.raw, '$.providerAlertId')                              AS provider_alert_id,
    json_extract(a.raw, '$.alertWebUrl')                                  AS web_url,
    json_extract(a.raw, '$.incidentWebUrl')                               AS incident_web_url,
    a.versions                                                            AS versions,
    (SELECT count(*) FROM main.alert_evidence e
      WHERE e.tenant = a.tenant AND e.alert_id = a.id)                    AS evidence_count,
    a.raw                                                                 AS raw
FROM main.alerts a;

-- One row per evidence item of each alert's current version, in Graph's order.
CREATE TEMP VIEW evidence AS
SELECT
    e.tenant                                                              AS tenant,
    e.alert_id                                                            AS alert_id,
    e.position                                                            AS position,
    replace(e.odata_type, '#microsoft.graph.security.', '')               AS type,
    e.verdict                                                             AS verdict,
    e.remediation_status                                                  AS remediation_status,
    json(json_extract(e.raw, '$.roles'))                                  AS roles,
    strftime('%Y-%m-%dT%H:%M:%fZ', json_extract(e.raw, '$.createdDateTime')) AS created,
    e.network_message_id                                                  AS network_message_id,
    e.recipient                                                           AS recipient,
    e.sender                                                              AS sender,
    CASE WHEN instr(e.sender, '@') > 0
        THEN lower(substr(e.sender, instr(e.sender, '@') + 1)) END        AS sender_domain,
    e.subject                                                             AS subject,
    e.delivery_action                                                     AS delivery_action,
    e.delivery_location                                                   AS delivery_location,
    e.url                                                                 AS url,
    e.ip                                                                  AS ip,
    e.account                                                             AS account,
    e.file_name                                                           AS file_name,
    e.file_sha256                                                         AS file_sha256,
    e.raw                                                                 AS raw
FROM main.alert_evidence e;

-- One row per message per recipient (advanced hunting EmailEvents).
CREATE TEMP VIEW email_events AS
SELECT
    m.tenant                                                              AS tenant,
    m.network_message_id                                                  AS network_message_id,
    m.recipient                                                           AS recipient,
    strftime('%Y-%m-%dT%H:%M:%S', m.timestamp_ms / 1000, 'unixepoch')
        || printf('.%03dZ', m.timestamp_ms % 1000)                        AS timestamp,
    m.timestamp_ms                                                        AS timestamp_ms,
    m.direction                                                           AS direction,
    m.sender_from                                                         AS sender_from,
    m.sender_mail_from                                                    AS sender_mail_from,
    m.sender_display_name                                                 AS sender_display_name,
    m.sender_from_domain                                                  AS sender_domain,
    json_extract(m.raw, '$.SenderMailFromDomain')                         AS sender_mail_from_domain,
    m.sender_ip                                                           AS sender_ip,
    m.subject                                                             AS subject,
    m.delivery_action                                                     AS delivery_action,
    m.delivery_location                                                   AS delivery_location,
    m.latest_delivery_location                                            AS latest_delivery_location,
    json_extract(m.raw, '$.LatestDeliveryAction')                         AS latest_delivery_action,
    m.threat_types                                                        AS threat_types,
    json_extract(m.raw, '$.ThreatNames')                                  AS threat_names,
    json_extract(m.raw, '$.DetectionMethods')                             AS detection_methods,
    json_extract(m.raw, '$.ConfidenceLevel')                              AS confidence_level,
    json_extract(m.raw, '$.BulkComplaintLevel')                           AS bulk_complaint_level,
    json_extract(m.raw, '$.AuthenticationDetails')                        AS authentication_details,
    json_extract(m.raw, '$.EmailAction')                                  AS email_action,
    json_extract(m.raw, '$.AttachmentCount')                              AS attachment_count,
    json_extract(m.raw, '$.UrlCount')                                     AS url_count,
    m.internet_message_id                                                 AS internet_message_id,
    m.report_id                                                           AS report_id,
    m.raw                                                                 AS raw
FROM main.email_events m;

-- One row per URL found in alert evidence: each urlEvidence, and each entry of an analyzed
-- message's `urls` list (with the message it was in).
CREATE TEMP VIEW urls AS
WITH found AS (
    SELECT e.tenant, e.alert_id, e.position, 'urlEvidence' AS source, e.url, e.verdict,
           NULL AS network_message_id, NULL AS recipient, NULL AS sender
    FROM main.alert_evidence e
    WHERE e.odata_type = '#microsoft.graph.security.urlEvidence' AND e.url IS NOT NULL
    UNION ALL
    SELECT e.tenant, e.alert_id, e.position, 'analyzedMessageEvidence', u.value, e.verdict,
           e.network_message_id, e.recipient, e.sender
    FROM main.alert_evidence e, json_each(e.raw, '$.urls') u
    WHERE e.odata_type = '#microsoft.graph.security.analyzedMessageEvidence' AND u.type = 'text'
),
without_scheme AS (
    SELECT *, CASE WHEN instr(url, '://') > 0 THEN substr(url, instr(url, '://') + 3) ELSE url END AS rest
    FROM found
),
authority AS (
    -- The authority ends at the first '/', '?' or '#'.
    SELECT *, substr(rest, 1, min(
        CASE WHEN instr(rest, '/') > 0 THEN instr(rest, '/') ELSE length(rest) + 1 END,
        CASE WHEN instr(rest, '?') > 0 THEN instr(rest, '?') ELSE length(rest) + 1 END,
        CASE WHEN instr(rest, '#') > 0 THEN instr(rest, '#') ELSE length(rest) + 1 END) - 1) AS auth
    FROM without_scheme
),
host AS (
    SELECT *, CASE WHEN instr(auth, '@') > 0 THEN substr(auth, instr(auth, '@') + 1) ELSE auth END AS host_port
    FROM authority
)
SELECT
    tenant,
    alert_id,
    position,
    source,
    url,
    lower(CASE
        WHEN host_port LIKE '[%' THEN substr(host_port, 1, instr(host_port, ']'))
        WHEN instr(host_port, ':') > 0 THEN substr(host_port, 1, instr(host_port, ':') - 1)
        ELSE host_port END)                                               AS url_domain,
    verdict,
    network_message_id,
    recipient,
    sender
FROM host;

-- The stored OCSF 1.8.0 events: a Detection Finding (2004) per stored alert version and an
-- Email Activity (4009) per email event, exactly as `mailtrail export` writes them.
CREATE TEMP VIEW ocsf_events AS
SELECT
    f.tenant                                                              AS tenant,
    2004                                                                  AS class_uid,
    'Detection Finding'                                                   AS class_name,
    f.activity_id                                                         AS activity_id,
    strftime('%Y-%m-%dT%H:%M:%S', f.time_ms / 1000, 'unixepoch')
        || printf('.%03dZ', f.time_ms % 1000)                             AS time,
    f.time_ms                                                             AS time_ms,
    f.alert_id                                                            AS alert_id,
    f.last_update_ns / 1000000                                            AS alert_last_updated_ms,
    EXISTS (SELECT 1 FROM main.alerts a WHERE a.tenant = f.tenant AND a.id = f.alert_id
              AND a.last_update_ns = f.last_update_ns)                    AS is_current,
    NULL                                                                  AS network_message_id,
    NULL                                                                  AS recipient,
    f.mapping_version                                                     AS mapping_version,
    f.event                                                               AS event
FROM main.ocsf_findings f
UNION ALL
SELECT
    m.tenant,
    4009,
    'Email Activity',
    json_extract(o.event, '$.activity_id'),
    strftime('%Y-%m-%dT%H:%M:%S', m.timestamp_ms / 1000, 'unixepoch')
        || printf('.%03dZ', m.timestamp_ms % 1000),
    m.timestamp_ms,
    NULL,
    NULL,
    1,
    m.network_message_id,
    m.recipient,
    o.mapping_version,
    o.event
FROM main.ocsf_email o JOIN main.email_events m ON m.rowid = o.event_rowid;

-- One row per tenant × stream × collection pass.
CREATE TEMP VIEW sync_runs AS
SELECT
    r.id                                                                  AS run_id,
    r.tenant                                                              AS tenant,
    r.stream                                                              AS stream,
    strftime('%Y-%m-%dT%H:%M:%S', r.started_ms / 1000, 'unixepoch')
        || printf('.%03dZ', r.started_ms % 1000)                          AS started,
    r.started_ms                                                          AS started_ms,
    CASE WHEN r.ended_ms IS NOT NULL THEN
        strftime('%Y-%m-%dT%H:%M:%S', r.ended_ms / 1000, 'unixepoch')
        || printf('.%03dZ', r.ended_ms % 1000) END                        AS ended,
    r.ended_ms                                                            AS ended_ms,
    r.ended_ms - r.started_ms                                             AS duration_ms,
    r.outcome                                                             AS outcome,
    r.pages                                                               AS pages,
    r.rows_new                                                            AS rows_new,
    r.rows_updated                                                        AS rows_updated,
    r.rows_unchanged                                                      AS rows_unchanged,
    r.requests                                                            AS requests,
    r.retries                                                             AS retries,
    r.throttled                                                           AS throttled,
    r.throttle_wait_ms                                                    AS throttle_wait_ms,
    r.token_refreshes                                                     AS token_refreshes,
    r.gaps_opened                                                         AS gaps_opened,
    r.gaps_closed                                                         AS gaps_closed,
    r.error_kind                                                          AS error_kind,
    r.error_message                                                       AS error_message,
    r.cursor_before                                                       AS cursor_before,
    r.cursor_after                                                        AS cursor_after
FROM main.sync_runs r;
