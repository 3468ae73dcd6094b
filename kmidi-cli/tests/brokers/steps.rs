//! Broker steps scripted at song times (issue 19 item 4): filled in by its owner.
