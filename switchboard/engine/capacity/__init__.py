"""Capacity-aware placement: who in a territory takes each record, without a loop over records.

The rule (docs/ARCHITECTURE.md, "Capacity pick"): among the territory's eligible
members, the next record
goes to the member with the lowest workload index, weighted by member weight, ties by the
persisted round-robin position, then rep_id; every placement counts before the next
record is placed.

Definitions used throughout the engine:

* A member's *delta* is what one record adds to its workload index:
  ``100 * (w_active_accounts + w_inbound_last_7d) / capacity`` for an account and
  ``100 * w_inbound_last_7d / capacity`` for a lead (a lead adds inbound, not a book).
* A member is *eligible* when the rep is available (active, HR active, carrying role, not
  the leaver), its weight is positive and it is not held back by hysteresis: a rep that
  was overflowing after the previous run stays out while its workload index (the mart's,
  at the start of the run) is at or above ``release``; any rep at or above
  ``high_water`` is out. The index a territory sees includes what rules evaluated before
  it (open opportunity, named account, account owner) gave the rep in this run.
* Member r with index I, delta d and weight w offers *slots* k = 1, 2, ... while
  ``I + (k - 1) * d < high_water`` (it may take a record while it is below high water).
  Slot k is ordered by ``I + k * d / w``: the index the rep would reach by taking it,
  with the record's increment divided by the weight. Capacity is already inside the
  index, so the weight only sets the *share of new records* (data_contracts:
  territory_members.weight): of two equally loaded members a weight-2 member takes two
  records for each one of a weight-1 teammate, while a lighter member still comes first.
  Using the index *after* the record means a small-capacity rep (big jumps) is not handed
  a record that pushes it far past a teammate. Ties: rr_position, rep_id.
* The records of a territory, in (created_at, record_id) order, are zipped with its
  smallest slots; the rest go to the overflow queue. Because a rep's slot keys increase
  with k, taking the N smallest slots is exactly the one-at-a-time greedy.

Accounts and leads have different deltas, so one territory is placed in two passes:
its accounts first, then its leads (the greedy applied to that sequence). A lead that
follows a new account (followers.with_followers) is not placed: it takes the account's
owner, and its delta is added to that owner after the accounts pass, before any later
pass. An account's followers may so take its owner past high water; the owner then
receives nothing more from a territory in this run.

Inbound leads see fewer members than accounts: ``eligible_lead`` keeps the eligible
members working at the as-of, or, when none is, those whose next shift starts first
(switchboard.engine.schedule); leads that require skills are placed as lead groups of
their own, with the members who have the skills (``lead_groups``). Members of a
round-robin territory offer their turns in the territory's rotation instead
(switchboard.engine.rotation): slot k is keyed by the position of the member's k-th turn,
the capacity limit staying the same.

Reps in several territories. Two territories placed from the same starting index would
hand out the same headroom twice. Territories are therefore processed conceptually one
after another in (priority, territory_id) order, a higher-priority territory drawing
first on a shared rep. That sequence is executed in *layers*: a territory's layer is one
more than the highest layer of an earlier territory it shares an eligible rep with, so
the territories of one layer share nobody and are placed together in one vectorised
pass; the consumed load is carried to the next layer. Orgs without shared reps run in a
single layer; a rep shared by every territory makes as many layers as territories (each
small), which is the price of never over-committing a rep.

The modules: state (the rep table, deltas and loads, each territory member's start
index and eligibility: hysteresis, weight, working hours), placement (slots, layers and
`place`), groups (the lead groups of required skills and excluded reps) and describe
(each territory's start-of-run pick, the members skipped or off duty, for rationale).
"""
