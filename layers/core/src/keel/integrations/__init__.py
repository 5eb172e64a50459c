"""Integrations: adapters to the systems where work happens (CRM, helpdesk, HR, cloud, webhooks) (R19)."""
