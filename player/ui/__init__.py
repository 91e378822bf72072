"""player.ui"""
