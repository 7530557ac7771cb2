"""Chain-of-custody records beside intake: who held an item, where, why, how and under what authority.

One module per record: `cases_extra` (classification schema, counsel, status),
`acquisition`, `physical` (physical items, locations, derivation), `transfers`
(two-party hand-over), `authority` (legal authority, non-collection),
`retention` (policies, extension), `holds` (legal hold, disposal), `privilege`
(privilege marks, outside-expert grants), `timeline` and `caseuco` (export).
Every change appends a ledger entry; every refusal appends a `*.refused`
entry before it raises.
"""
