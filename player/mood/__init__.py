"""player.mood"""
