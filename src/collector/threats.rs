//! The threats stream: MDO alerts from `alerts_v2`, filtered on `lastUpdateDateTime` (so
//! updates are seen, not only new alerts) from the checkpoint minus the overlap, ordered
//! ascending, every `nextLink` followed verbatim, one transaction per page with its checkpoint.

use std::sync::atomic::Ordering;

use super::{StreamContext, StreamReport, ingest};
use crate::graph::GraphError;
use crate::store::sync::{Advance, THREATS, format_ns};

/// The service source of Defender for Office 365 alerts.
pub const MDO_SOURCE: &str = "microsoftDefenderForOffice365";

/// The one field of an alert the pass itself looks at.
#[derive(serde::Deserialize)]
struct Stamp<'a> {
    #[serde(rename = "lastUpdateDateTime", borrow, default)]
    last_update: Option<std::borrow::Cow<'a, str>>,
}

/// The `$filter` for alerts updated at or after `since_ns`.
pub fn filter(since_ns: i64) -> String {
    format!(
        "serviceSource eq '{MDO_SOURCE}' and lastUpdateDateTime ge {}",
        format_ns(since_ns)
    )
}

/// One pass. Errors end the pass; what was stored before stays stored with its checkpoint.
pub async fn sync(
    ctx: &StreamContext<'_>,
    report: &mut StreamReport,
) -> Result<(), super::StreamError> {
    let client = &ctx.tenant.client;
    let now = client.server_now().await?;
    let cursor = ctx.checkpoint(THREATS).await?;
    report.cursor_before = cursor;
    let start = match cursor {
        Some(c) => c - ctx.plan.overlap_ns(),
        None => now.timestamp_nanos_opt().unwrap_or(0) - ctx.plan.lookback_ns(),
    };
    let mut url = client.alerts_url(
        &filter(start),
        ctx.plan.page_size,
        Some("lastUpdateDateTime asc"),
    );
    // The checkpoint may follow each page only while pages arrive in ascending order (then
    // nothing unseen is older than what was stored). If Graph ever ignores $orderby, the
    // checkpoint moves once, at the end of a complete pass.
    let mut ascending = true;
    let mut newest: Option<i64> = None;
    loop {
        if ctx.stop.load(Ordering::Relaxed) {
            report.interrupted = true;
            return Ok(());
        }
        let page = client
            .alerts_page(&url)
            .await
            .map_err(super::StreamError::Graph)?;
        let times: Vec<i64> = page
            .alerts
            .iter()
            .filter_map(|a| {
                // Only the one field: the whole alert is parsed once, when it is stored.
                let stamp: Stamp<'_> = serde_json::from_str(a.get()).ok()?;
                crate::store::alerts::parse_graph_time(&stamp.last_update?)
            })
            .collect();
        if times.windows(2).any(|w| w[0] > w[1])
            || matches!((newest, times.first()), (Some(n), Some(&f)) if f < n)
        {
            if ascending {
                tracing::warn!(
                    "{}: alerts_v2 pages are not in lastUpdateDateTime order; the checkpoint will move at the end of the pass",
                    ctx.tenant.name
                );
            }
            ascending = false;
        }
        newest = newest.max(times.iter().copied().max());
        let advance = if ascending {
            Advance::ToPageMax
        } else {
            Advance::No
        };
        let outcome = ingest(ctx, move |store, tenant| {
            store.ingest_alerts(&tenant, &page.alerts, advance)
        })
        .await?;
        report.add_page(&outcome);
        ctx.progress(report);
        match page.next_link {
            Some(next) => url = next,
            None => break,
        }
    }
    if !ascending && let Some(t) = newest {
        ingest(ctx, move |store, tenant| {
            store.ingest_alerts(&tenant, &[], Advance::To(t))
        })
        .await?;
    }
    Ok(())
}

impl From<GraphError> for super::StreamError {
    fn from(e: GraphError) -> Self {
        super::StreamError::Graph(e)
    }
}
