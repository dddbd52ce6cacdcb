"""The demo company's five teams for the bundled synthetic history (`calibration.synthetic`): how
each team estimates (its estimators, themes, the spreads of its stated ranges, the confidences it
writes) and how wrong it is, the ground truth the tests check: per factor a bias b on the log scale
and a widening k of the truth over the stated ranges, and its true delivery rate for a stated chance.
Growth is overconfident, Platform calibrated, Payments, Data and Mobile mildly off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Team:
    """How one team estimates, and how wrong it is (the ground truth)."""

    share: int  # initiatives per 20 a quarter
    estimators: tuple[str, ...]
    themes: tuple[str, ...]
    effort_sd: tuple[float, float]  # the stated ranges' log-scale spread s, drawn uniformly in [lo, hi]
    reach_sd: tuple[float, float]
    effort: tuple[float, float]  # (bias b on the log scale, widening k)
    reach: tuple[float, float]
    impact: tuple[float, float]
    confidence: tuple[str, ...]  # the stated confidences written (drawn uniformly)
    delivery: tuple[float, float]  # g(c) = clip(a + b·c): the true delivery probability for stated c
    forms: tuple[float, float, float] = (0.6, 0.2, 0.2)  # effort written as a range, pert, a single number
    names: tuple[str, ...] = field(default=(), repr=False)


TEAMS: dict[str, Team] = {
    "Platform": Team(
        5, ("Priya Shah", "Tom Becker", "Lena Park"), ("Enterprise", "Efficiency"), (0.2, 0.4), (0.3, 0.5),
        effort=(0.0, 1.0), reach=(0.0, 1.0), impact=(0.0, 1.0),
        confidence=("50%", "60%", "70%", "80%", "90%", "medium", "low", "60%..90%"), delivery=(0.0, 1.0),
        names=("API rate limiting per workspace", "Public API v2", "Webhook retry queue",
               "Two-factor authentication for all users", "Session management for admins", "IP allow-listing",
               "Sandbox workspaces", "Database sharding for large tenants", "Zero-downtime deploys",
               "Background job scheduler rewrite", "Search index migration", "Service status page",
               "Encryption key rotation", "SOC 2 evidence automation", "Multi-region failover", "Tenant data export",
               "Workspace merge tool", "OAuth apps for partners", "Feature-flag service", "Tracing across services",
               "Cloud cost dashboards", "Bulk import API", "Domain verification for enterprise",
               "Login with Google Workspace", "Permission audit report", "Data retention policies",
               "Audit log streaming to SIEM", "Granular API tokens", "Customer-managed encryption keys",
               "HIPAA readiness", "Organization-level billing", "Admin console redesign", "Postgres 16 upgrade",
               "Job queue autoscaling", "Read replicas for reporting", "Secrets manager migration",
               "Per-tenant backups and restore", "Login anomaly detection", "Service accounts for integrations",
               "API usage analytics", "Webhook signing secret rotation", "Staging environments per customer",
               "Email delivery service migration", "PDF rendering service rewrite", "Kubernetes cluster upgrade",
               "CDN for invoice attachments", "Idempotency keys on the API", "Schema migration tooling",
               "Disaster recovery drill automation", "Dependency vulnerability scanning", "Log retention and search",
               "Password policy settings", "Attachment virus scanning", "API pagination overhaul")),
    "Payments": Team(
        4, ("Marco Rossi", "Aisha Bello"), ("Growth", "Efficiency", "Retention"), (0.2, 0.35), (0.3, 0.5),
        effort=(math.log(1.15), 1.3), reach=(math.log(0.9), 1.2), impact=(math.log(0.9), 1.2),
        confidence=("60%", "70%", "80%", "90%", "medium", "70%..90%"), delivery=(-0.08, 1.0),
        names=("SEPA direct debit", "Partial payments on invoices", "Payment links in emails",
               "Apple Pay and Google Pay", "Recurring invoices", "Automatic payment reconciliation",
               "Refunds from the invoice page", "Chargeback evidence workflow", "3-D Secure 2 compliance",
               "Payment plans for large invoices", "Late-payment fees", "Stripe Connect migration",
               "Currency conversion at payout", "Invoice financing pilot", "BACS payments (UK)",
               "Card account updater for retries", "Credit notes", "Deposit invoices", "Split payouts for marketplaces",
               "PayPal checkout", "Fraud rules for card payments", "Tax-inclusive pricing", "Payment reminders by SMS",
               "Bank feed connections", "Payment analytics for customers", "Cross-border fee breakdown",
               "Pay-by-bank (open banking)", "Saved payment methods", "Payout scheduling", "Dispute notifications",
               "Direct debit mandates in bulk", "Surcharging for card payments", "Payment receipts as PDF",
               "Minimum payment amounts", "Overpayment handling", "Partial refunds", "Payout reports for accountants",
               "Prepaid credit balances", "Virtual card acceptance", "Pay later via a partner",
               "Payment method rules per customer", "QR codes for bank transfers")),
    "Growth": Team(
        5, ("Alex Rivera", "Sam Chen", "Jordan Miles"), ("Growth", "Retention"), (0.25, 0.25), (0.3, 0.3),
        effort=(math.log(1.3), 2.0), reach=(math.log(0.7), 2.0), impact=(math.log(0.85), 1.8),
        confidence=("80%", "85%", "90%", "80%..95%"), delivery=(0.55, 0.0), forms=(0.75, 0.0, 0.25),
        names=("Invoice template gallery", "Signup with Google", "Lifecycle email sequences",
               "Annual plan discount experiment", "Product tour for new admins", "Invite teammates nudge",
               "Win-back campaign for churned accounts", "Landing pages per industry", "Free invoice generator (SEO)",
               "Affiliate program", "Trial extension offers", "Empty-state redesign", "Upgrade paywall A/B tests",
               "Activation score and nudges", "Public roadmap and voting", "In-app NPS survey",
               "Partner co-marketing pages", "Localized signup (DE, FR, ES)", "Checkout for add-ons",
               "Quickstart with sample data", "Referral credits in the app", "Customer stories hub",
               "Onboarding webinars", "Seat-based upsell prompts", "Pricing localization", "Abandoned signup emails",
               "G2 review campaign", "Mobile app install banner", "Growth experiments platform",
               "Onboarding for accountants", "Lead scoring for sales", "Freemium plan", "Usage milestones emails",
               "Plan comparison page", "Exit-intent offers on pricing", "Accountant partner directory",
               "Welcome video series", "Annual billing prompt at renewal", "Team plan trial",
               "Interactive demo without signup", "Free tools hub for freelancers", "Customer webinar funnel",
               "Onboarding emails for invited users", "Self-serve plan downgrade flow", "Product-qualified lead alerts",
               "Trial-to-paid email series", "Social proof on the signup page", "Invoice template marketplace",
               "Browser extension for quick invoices", "Paid search landing page tests",
               "Reactivation offers for dormant accounts", "Startup program discounts", "Custom branding upsell",
               "Video tutorial series")),
    "Data": Team(
        3, ("Nina Kowalski", "Omar Haddad"), ("Retention", "Enterprise", "Growth"), (0.2, 0.35), (0.35, 0.5),
        effort=(math.log(1.1), 1.4), reach=(math.log(1.05), 1.3), impact=(0.0, 1.3),
        confidence=("50%", "60%", "70%", "80%", "medium", "50%..80%"), delivery=(0.0, 0.9),
        names=("Churn prediction model", "Days-sales-outstanding report", "Scheduled report emails",
               "Customer segmentation for marketing", "Invoice categorization with ML",
               "Metrics layer for product analytics", "Benchmarks against similar businesses",
               "Late-payment risk score", "Custom report builder", "Event tracking cleanup", "Self-serve data exports",
               "Expense insights", "Embedded dashboards", "Duplicate invoice detection", "Data quality monitors",
               "Smart due-date suggestions", "Revenue recognition report", "Forecast accuracy tracking",
               "Cohort retention report", "Customer lifetime value model", "Reverse ETL to the CRM",
               "Aging report by customer", "Payment-time prediction", "Anomaly alerts on expenses", "Data catalog",
               "Usage data pipeline rebuild", "SQL access for enterprise customers", "Invoice status funnel report",
               "Warehouse data retention", "Product analytics for admins", "Pipeline monitoring and alerting",
               "Tax report exports", "Customer payment behavior report", "Team productivity insights")),
    "Mobile": Team(
        3, ("Kenji Watanabe", "Sofia Lindqvist"), ("Retention", "Efficiency"), (0.2, 0.35), (0.3, 0.5),
        effort=(math.log(1.2), 1.2), reach=(math.log(0.85), 1.2), impact=(math.log(0.9), 1.2),
        confidence=("60%", "70%", "80%", "90%", "medium"), delivery=(-0.12, 1.0),
        names=("Mobile invoice creation", "Tap to pay on iPhone", "Biometric login", "Mobile expense capture",
               "Dark mode", "Android tablet layout", "Home-screen widgets", "Payment links via SMS",
               "Time tracking on mobile", "In-app chat with support", "Mobile onboarding redesign",
               "Client portal in the app", "Offline receipt queue", "Mileage tracking", "Apple Watch reminders",
               "Mobile reports", "Crash reporting and stability sprint", "Accessibility fixes (VoiceOver, TalkBack)",
               "App size reduction", "Deep links from emails", "Mobile approvals for expenses",
               "Push notification preferences", "Android payment terminal", "Mobile client list search",
               "Scan-to-pay QR codes", "Switching between accounts", "iPad split view", "Voice notes on expenses",
               "Mobile invoice templates", "Faster app start", "Photo attachments on invoices",
               "Mobile settings redesign", "In-app feedback button")),
}
