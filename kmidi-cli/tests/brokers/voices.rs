//! A voice and figures per broker (issue 19 item 3): filled in by its owner.
