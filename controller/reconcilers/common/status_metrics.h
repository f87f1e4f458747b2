// What a status write tells the metrics: a Certificate's expiry, renewal time and Ready
// condition, an Issuer's Ready condition, and an Order or Challenge reaching its final state.
// WriteStatus calls it for every status it stores or finds already stored, so a controller that
// restarts re-exports its gauges on the first sync of each object.
#pragma once

#include "kube/client.h"
#include "reconcilers/context.h"

namespace certsmith::reconcilers {

// object: as read before the write; status: what it is being written to.
void RecordStatusMetrics(Context& ctx, const kube::ResourceRef& res, const Json& object,
                         const Json& status);

}  // namespace certsmith::reconcilers
