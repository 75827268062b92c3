"""Pure customer-intelligence algorithms (RFM, clustering, CLV, propensity): no Django."""
