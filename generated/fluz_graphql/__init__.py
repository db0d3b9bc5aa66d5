"""placeholder until make codegen"""
