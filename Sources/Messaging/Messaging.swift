// Messaging kit: envelope, outbox, inbox, retry tiers, consumer runner.
