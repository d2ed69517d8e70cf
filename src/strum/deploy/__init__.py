"""Deploys: desired state from config -> plan of typed steps -> executor per target.

``plan`` is pure; ``execute`` carries steps out through one API wrapper (``api``);
``local`` ties config, build and the platform together for the local target.
"""
