//! kmidi's `rskafka` transport (skeleton).
