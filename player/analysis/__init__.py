"""player.analysis"""
