#ifndef MOE_SLIM_SIGNALS_PRIVATE_H
#define MOE_SLIM_SIGNALS_PRIVATE_H

/// Removes every registered temporary with async-signal-safe calls only; for the handlers.
void moeslim_remove_temporaries_now(void);

#endif
