"""The messaging mechanism: outbox (CommunicationLog), gatekeeper, templates, provider adapters, dispatcher."""
